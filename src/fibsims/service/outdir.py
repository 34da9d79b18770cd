"""Where a new run goes: a folder that can be made, is ours alone, and has room for the data.

Why before anything else: a bad ``--out`` found after the instrument was opened (or, worse,
an existing folder silently reused, its files overwritten and then deleted) costs a user the
set-up of a day. Each check names the path, the problem and the fix. The folder is then made
here (exclusively, so two runs started together never share one), and a refused run removes
what it made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from pathlib import Path

from fibsims.service.folder import RunFolderError
from fibsims.service.lock import LOCK_NAME, OWNER_NAME, WAIT_S, in_use, is_locked

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


def _missing_levels(folder: Path) -> list[Path]:
    """The folders that must be made for ``folder`` to exist, deepest first."""
    missing, here = [], folder.absolute()
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    return missing


def _check_unheld_out_folder(folder: Path) -> None:
    """``check_out_folder``, except that a folder another process holds is refused as in use,
    naming the holder: two ``fibsims run --out X`` started together may find the winner's
    run.json already written (its instrument opens in well under a second), and the loser must
    say who works on the folder, not that it "already holds a run"."""
    try:
        check_out_folder(folder)
    except RunFolderError:
        with contextlib.suppress(OSError):
            if is_locked(folder, WAIT_S):
                raise RunFolderError(in_use(folder)) from None
        raise


def make_run_folder(out: Path | None, runs_root: Path, recipe_name: str) -> tuple[Path, list[Path]]:
    """The run folder (``out``, else a new ``RUNS_ROOT/RECIPE-STAMP``), made now, and the
    folders this call made (deepest first), which a refused run removes again."""
    if out is not None:
        _check_unheld_out_folder(out)
        made = _missing_levels(out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunFolderError(f"--out {out} cannot be made: {error.strerror or error}") from None
        return out, made
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    check_out_folder(runs_root / f"{recipe_name}-{stamp}")
    root_made = _missing_levels(runs_root)
    for suffix in range(1, 1000):
        name = f"{recipe_name}-{stamp}" + (f"-{suffix}" if suffix > 1 else "")
        folder = runs_root / name
        try:
            folder.mkdir(parents=True)  # exclusive: two runs started together never share one
        except FileExistsError:
            continue
        except OSError as error:
            raise RunFolderError(f"{folder} cannot be made: {error.strerror or error}") from None
        return folder, [folder.absolute(), *root_made]
    raise RunFolderError(f"{runs_root} has 999 runs of {recipe_name} this second")


def remove_refused(folder: Path, made: list[Path]) -> None:
    """A refused run leaves nothing behind. Called while holding the folder's lock, so the
    files are this process's own: the run's first files, the lock's files, and every folder
    level this run made (each only if empty)."""
    for name in ("recipe.yaml", "run.json", OWNER_NAME, LOCK_NAME):
        with contextlib.suppress(OSError):
            (folder / name).unlink(missing_ok=True)
    for level in made:
        with contextlib.suppress(OSError):
            level.rmdir()
