"""What differs between POSIX and Windows, in one place: folder fsync and which signals exist.

Why: an instrument PC runs Windows (issue 14). Here, rather than at each call site, so that a
call site cannot forget the other platform and a test can fake Windows by setting
:data:`WINDOWS` or deleting a signal from the ``signal`` module. In the data layer because the
lowest code that needs it (durable writes) lives here; the service and the CLI use it too.

Not here, because a portable library already does it right on both platforms:

- Whether a process is alive: psutil (:mod:`fibsims.service.process`), which asks Windows
  through ``OpenProcess``. Never ``os.kill(pid, 0)``: on Windows signal 0 is
  ``CTRL_C_EVENT``, sent to the whole console process group; it would interrupt the run.
- The run folder's lock: filelock (:mod:`fibsims.service.lock`), ``flock`` on POSIX and a
  lock on the file's first byte on Windows (``LockFileEx`` in filelock 4, ``msvcrt.locking``
  in 3.x); the operating system releases either when the process dies.
- Asking a live run to abort: ``fibsims abort`` leaves ``abort.request`` in the run folder,
  which the run polls at every safe point (:mod:`fibsims.service.status`); no pid, no signal.
  SIGUSR1 is an extra way in on POSIX only (``kill -USR1 PID``).

Signals on Windows (Python docs, ``signal``): only SIGINT, SIGTERM, SIGBREAK, SIGABRT, SIGFPE,
SIGILL and SIGSEGV exist. Ctrl-C in the run's console raises SIGINT as on POSIX; Ctrl-Break
raises SIGBREAK, handled as SIGTERM is on POSIX. A SIGTERM handler can be installed but is never
run by another process: ``os.kill(pid, SIGTERM)`` on Windows is ``TerminateProcess``, a hard kill.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

WINDOWS = sys.platform == "win32"
"""Read at each call, so a test can set it to fake Windows on this machine."""


def fsync_directory(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (the folder's entry, not the data).

    POSIX: the folder is opened read-only and fsynced, as a rename is not durable until the
    folder is. Windows: nothing, because ``os.open`` cannot open a folder there (it needs
    ``CreateFile`` with ``FILE_FLAG_BACKUP_SEMANTICS``) and NTFS journals its metadata, so the
    rename (``MoveFileEx``) is recovered after a power cut without a folder flush.
    """
    if WINDOWS:
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def abort_signal() -> signal.Signals | None:
    """The signal that aborts a run from another process: SIGUSR1, None where it does not
    exist (Windows; ``fibsims abort``'s request file works everywhere)."""
    return getattr(signal, "SIGUSR1", None)


def pause_signals() -> tuple[signal.Signals, ...]:
    """Signals besides Ctrl-C that pause a run at the end of its step: SIGTERM (POSIX, and
    harmless on Windows), SIGBREAK (Ctrl-Break, Windows only), whichever exist here."""
    names = ("SIGTERM", "SIGBREAK")
    return tuple(getattr(signal, name) for name in names if hasattr(signal, name))


def stop_signals() -> tuple[signal.Signals, ...]:
    """Signals that ask a long-running command (a server) to stop cleanly: Ctrl-C and the
    pause signals."""
    return (signal.SIGINT, *pause_signals())
