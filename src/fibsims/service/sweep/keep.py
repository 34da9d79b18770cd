"""What ``--keep`` keeps of a finished variant, and what a variant folder weighs.

``--keep all`` keeps the run folder as ``fibsims run`` leaves it. ``--keep summary`` (the
default) deletes the bulk once the variant's row and preview are taken: ``run.h5``, ``sims.h5``,
``volumes.h5`` and what a resumed run may hold (``slices/``, ``superseded/``). It keeps what
says what the run was and how it went, which ``fibsims status`` and ``fibsims inspect`` read:
``run.json`` (the recipe, its overrides, the seed), ``recipe.yaml``, ``journal.jsonl``,
``state.json``, ``summary.json`` (times, quality), ``log.jsonl``, and ``preview/``. A pruned
variant is rerun in full with ``fibsims run`` and the overrides ``inspect`` shows, or with
``fibsims sweep --keep all`` into a new folder.

``pruned.json`` in the folder lists what was deleted and its size, so nobody wonders where
run.h5 went.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from fibsims.data.atomic import write_json_atomic
from fibsims.data.sweep_preview import PREVIEW_DIR

KEEP_CHOICES = ("summary", "all")
BULK_FILES = ("run.h5", "sims.h5", "volumes.h5")
BULK_DIRS = ("slices", "superseded", "report", "exports")
PRUNED_NAME = "pruned.json"


def folder_bytes(folder: Path, skip: tuple[str, ...] = (PREVIEW_DIR,)) -> int:
    """Bytes of the files under ``folder``, but for the top-level entries ``skip``."""
    total = 0
    for root, dirs, files in os.walk(folder):
        if Path(root) == folder:
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def prune(folder: Path) -> int:
    """Delete the bulky data of a finished variant (see the module docstring); the bytes
    freed. Safe to repeat: an interrupted prune is finished by the next one."""
    removed: dict[str, int] = {}
    for name in BULK_FILES:
        path = folder / name
        if path.is_file():
            removed[name] = path.stat().st_size
            path.unlink()
    for name in BULK_DIRS:
        path = folder / name
        if path.is_dir():
            removed[name + "/"] = folder_bytes(path, ())
            shutil.rmtree(path)
    if removed:
        earlier = {}
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            earlier = json.loads((folder / PRUNED_NAME).read_text(encoding="utf-8"))["removed"]
        removed = {**earlier, **removed}
        write_json_atomic(
            folder / PRUNED_NAME,
            {
                "why": "fibsims sweep --keep summary: the bulky data was deleted once the "
                "variant's table row and preview were taken",
                "removed": removed,
                "bytes": sum(removed.values()),
            },
        )
    return sum(removed.values())
