"""The server's instrument thread: runs calls one at a time, off the socket thread.

Why a separate thread: a mill on hardware takes minutes. If the socket thread ran it, the
server could not answer heartbeats meanwhile and every client would think it dead. Calls run
here in arrival order (an instrument does one thing at a time); each finished call wakes the
socket thread, which then sends the reply (see ``InstrumentServer._submit``).

Why safety tasks go through here too: blanking a beam from another thread while a mill runs
would race the backend (few vendor APIs are thread-safe). An urgent task (blank the beam of a
session whose client died) jumps the queue and runs as soon as the current call ends; stopping
is urgent too, so calls still queued behind it are dropped rather than run on the way out.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable

Task = Callable[[], None]
log = logging.getLogger("fibsims.link.server")


class Worker(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="fibsims-link-worker", daemon=True)
        self._tasks: queue.PriorityQueue[tuple[bool, int, Task | None]] = queue.PriorityQueue()
        self._order = itertools.count()

    def submit(self, task: Task, *, urgent: bool = False) -> None:
        """Run ``task`` after those before it; an urgent one before every queued call, as soon
        as the running one ends."""
        self._tasks.put((not urgent, next(self._order), task))

    def stop(self) -> None:
        """End after the running call and the urgent tasks already submitted."""
        self._tasks.put((False, next(self._order), None))

    def run(self) -> None:
        while (task := self._tasks.get()[2]) is not None:
            try:
                task()
            except Exception:  # calls build their own error replies; this is a last guard
                log.exception("a job crashed outside its error handling")
