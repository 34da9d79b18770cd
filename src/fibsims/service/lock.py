"""One process per run folder: an OS lock held for as long as a command works on the run.

Why an OS lock: two ``fibsims resume DIR`` started a moment apart would both mill the same
slices and write duplicate commits. ``filelock`` takes ``flock`` on POSIX and locks the file's
first byte on Windows (``LockFileEx``; ``msvcrt.locking`` before filelock 4); the operating
system releases it when the process dies, however it dies, so a killed run never leaves a stale
lock behind (Windows may take a moment: :data:`WAIT_S`). ``owner.json`` says who holds it
(pid, start time, host, command) so a refusal can name the holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from types import TracebackType

import filelock

from fibsims.data.atomic import write_json_atomic
from fibsims.service.process import ProcessId

LOCK_NAME = ".fibsims.lock"
OWNER_NAME = "owner.json"
WAIT_S = 1.0
"""How long to wait for a lock that is just being released (a process exiting, a status
probe) before refusing."""


class RunLocked(Exception):
    """Another process works on the run folder."""


class RunLock:
    def __init__(self, folder: Path, command: str) -> None:
        self.folder = folder
        self.command = command
        self._lock = filelock.FileLock(folder / LOCK_NAME, timeout=WAIT_S)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self) -> RunLock:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise RunLocked(in_use(self.folder)) from None
        owner = {
            **ProcessId.current().as_record(),
            "command": self.command,
            "since_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        with contextlib.suppress(OSError):  # who holds it is a courtesy, the lock is the fact
            write_json_atomic(self.folder / OWNER_NAME, owner)
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.folder / OWNER_NAME).unlink(missing_ok=True)
            self._lock.release()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def in_use(folder: Path) -> str:
    """The refusal of a folder another process holds, naming the holder."""
    return (
        f"another fibsims process is working on {folder} ({holder(folder)}); "
        "wait for it, or stop it (Ctrl-C in its terminal, or `fibsims abort`)"
    )


def holder(folder: Path) -> str:
    """Who holds the folder's lock, as a phrase for a message."""
    try:
        owner = json.loads((folder / OWNER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "process unknown"
    identity = ProcessId.from_record(owner)
    if identity is None:
        return "process unknown"
    command = owner.get("command", "fibsims") if isinstance(owner, dict) else "fibsims"
    where = f" on {identity.host}" if identity.host else ""
    return f"`fibsims {command}`, process {identity.pid}{where}"


def is_locked(folder: Path, wait_s: float = 0.0) -> bool:
    """Whether some process holds the folder's lock right now (probes without waiting), or
    still after ``wait_s`` (a lock just being released, as :meth:`RunLock.acquire` waits)."""
    if not (folder / LOCK_NAME).exists():
        return False
    probe = filelock.FileLock(folder / LOCK_NAME, timeout=wait_s)
    try:
        probe.acquire()
    except filelock.Timeout:
        return True
    probe.release()
    return False
