"""The server's instrument thread: runs calls one at a time, off the socket thread.

Why a separate thread: a mill on hardware takes minutes. If the socket thread ran it, the
server could not answer heartbeats meanwhile and every client would think it dead. Calls run
here in arrival order (an instrument does one thing at a time); each finished call wakes the
socket thread (``notify``), which then sends the reply.

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
from collections import deque
from collections.abc import Callable
from typing import Any

Job = Callable[[], list[Any]]
Task = Callable[[], None]
log = logging.getLogger("fibsims.link.server")
_URGENT, _NORMAL = 0, 1


class Worker(threading.Thread):
    def __init__(self, notify: Callable[[], None]) -> None:
        super().__init__(name="fibsims-link-worker", daemon=True)
        self._notify = notify
        self._jobs: queue.PriorityQueue[tuple[int, int, tuple[Any, Job | Task] | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._done: deque[tuple[Any, list[Any] | None]] = deque()

    def submit(self, key: Any, job: Job) -> None:
        """Run a call after those before it; its reply is reported by :meth:`finished`."""
        self._jobs.put((_NORMAL, next(self._order), (key, job)))

    def submit_urgent(self, task: Task) -> None:
        """Run ``task`` before every queued call, as soon as the running one ends."""
        self._jobs.put((_URGENT, next(self._order), (None, task)))

    def finished(self) -> list[tuple[Any, list[Any] | None]]:
        """Take the results finished since the last call."""
        return [self._done.popleft() for _ in range(len(self._done))]

    def stop(self) -> None:
        """End after the running call and the urgent tasks already submitted."""
        self._jobs.put((_URGENT, next(self._order), None))

    def run(self) -> None:
        while (item := self._jobs.get()[2]) is not None:
            key, job = item  # key None: a safety task, not a call
            try:
                frames = job()
            except Exception:  # jobs build their own error replies; this is a last guard
                log.exception("a job crashed outside its error handling")
                frames = None
            if key is not None:
                self._done.append((key, frames))
                self._notify()
