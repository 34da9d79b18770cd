"""Where a new run goes: a folder that can be made, is ours alone, and has room for the data.

Why before anything else: a bad ``--out`` found after the instrument was opened (or, worse,
an existing folder silently reused, its files overwritten and then deleted) costs a user the
set-up of a day. Each check names the path, the problem and the fix.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fibsims.service.folder import RunFolderError
from fibsims.service.lock import LOCK_NAME, OWNER_NAME

OURS = {LOCK_NAME, OWNER_NAME}
RUN_MARKERS = ("run.json", "journal.jsonl", "run.h5", "state.json", "sites.json")


def nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    here = path.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def check_out_folder(folder: Path) -> None:
    """Refuse a run folder that is a file, lies under a file, cannot be written, or already
    holds something (a run, or anything else)."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder} is a file, not a folder; choose a folder path")
    base = nearest_existing(folder)
    if not base.is_dir():
        raise RunFolderError(
            f"--out {folder} lies under {base}, which is a file; choose a folder path"
        )
    if not os.access(base, os.W_OK | os.X_OK):
        raise RunFolderError(
            f"--out {folder}: cannot write in {base} (permission denied); choose a folder you "
            "can write to"
        )
    if folder.is_dir():
        names = {p.name for p in folder.iterdir()} - OURS
        if any(marker in names for marker in RUN_MARKERS):
            raise RunFolderError(
                f"{folder} already holds a run; resume it with `fibsims resume {folder}`, or "
                "choose another --out"
            )
        if names:
            raise RunFolderError(
                f"--out {folder} is not empty ({len(names)} entries, e.g. {sorted(names)[0]!r}); "
                "a run needs a new or empty folder so nothing of yours is overwritten: choose "
                "another --out"
            )


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(nearest_existing(folder)).free
