"""Atomic, durable file writes: write a temporary sibling, fsync it, rename, fsync the folder.

A reader (or a resumed run) therefore sees either the old file or the complete new one, never
a torn one. Leftover ``*.tmp`` files are the mark of an interrupted write and may be deleted.
Temporary names carry the process id and a random token, so two writers never share one.

``durable=False`` keeps the atomicity (the rename) without the two fsyncs, for a file rewritten
so often that they would cost more than the file is worth after a power cut: ``state.json``'s
step starts (see :mod:`fibsims.data.state_file`).

Platforms: on POSIX the folder is fsynced after the rename so the new name itself survives a
power cut. Windows cannot open a folder to fsync it; there ``os.replace`` (MoveFileEx) is
journalled by NTFS and the folder sync is skipped (:func:`fibsims.data.platform.fsync_directory`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fibsims.data.platform import fsync_directory

TMP_SUFFIX = ".tmp"


def temporary_sibling(target: Path) -> Path:
    return target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}")


@contextlib.contextmanager
def atomic_path(target: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` (durably unless
    ``durable`` is False: see the module docstring)."""
    tmp = temporary_sibling(target)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
        if durable:
            fsync_directory(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(target: Path, write: Callable[[Path], None], *, durable: bool = True) -> None:
    with atomic_path(target, durable=durable) as tmp:
        write(tmp)


def write_json_atomic(target: Path, payload: Any, *, durable: bool = True) -> None:
    text = json.dumps(payload, indent=2, sort_keys=False) + "\n"
    write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), durable=durable)
