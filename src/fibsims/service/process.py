"""Which process holds a run: its pid *and* its start time, so a reused pid is not mistaken.

Why: after a reboot (or simply a long time) the pid a run recorded belongs to some other
process. Signalling it, or reading it as "the run is still going", would stop a stranger or
block ``resume`` for ever. A pid together with the process's creation time names one process
for its whole life, on every platform psutil supports (Linux, macOS, Windows).
"""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass
from typing import Any

import psutil

START_TOLERANCE_S = 0.05
"""psutil derives start times from clock ticks; the same process reads back within this."""


@dataclass(frozen=True)
class ProcessId:
    pid: int
    started: float
    """The process's creation time, seconds since the epoch."""
    host: str

    @classmethod
    def current(cls) -> ProcessId:
        return cls(os.getpid(), psutil.Process().create_time(), socket.gethostname())

    @classmethod
    def from_record(cls, record: Any) -> ProcessId | None:
        """The identity stored in a state or owner record, or None when it has none usable."""
        if not isinstance(record, dict):
            return None
        pid, started, host = record.get("pid"), record.get("pid_started"), record.get("host")
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            return None
        if isinstance(started, bool) or not isinstance(started, int | float):
            started = None
        return cls(pid, float(started) if started is not None else -1.0, str(host or ""))

    def as_record(self) -> dict[str, Any]:
        fields = asdict(self)
        return {"pid": fields["pid"], "pid_started": fields["started"], "host": fields["host"]}

    def alive(self) -> bool:
        """Whether this very process still runs. A process on another host cannot be seen
        from here: it is taken as alive (never call a run dead that may be going)."""
        if self.host and self.host != socket.gethostname():
            return True
        if self.pid == os.getpid():
            return False  # this process is reading its own leftovers, so the run is not live
        try:
            started = psutil.Process(self.pid).create_time()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return self.started < 0  # cannot read its start time: alive only if none recorded
        if self.started < 0:  # a record without a start time: the pid alone
            return True
        return abs(started - self.started) <= START_TOLERANCE_S
