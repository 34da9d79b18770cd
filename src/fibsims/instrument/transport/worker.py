"""The server's instrument thread: runs calls one at a time, off the socket thread.

Why a separate thread: a mill on hardware takes minutes. If the socket thread ran it, the
server could not answer heartbeats meanwhile and every client would think it dead. Calls run
here in arrival order (an instrument does one thing at a time); each finished call wakes the
socket thread through an inproc PUSH/PULL pair, which then sends the reply.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import zmq

Job = Callable[[], list[Any]]
log = logging.getLogger("fibsims.link.server")


class Worker(threading.Thread):
    def __init__(self, context: zmq.Context[Any], wake_endpoint: str) -> None:
        super().__init__(name="fibsims-link-worker", daemon=True)
        self._context = context
        self._wake_endpoint = wake_endpoint
        self._jobs: queue.Queue[tuple[Any, Job] | None] = queue.Queue()
        self._done: collections.deque[tuple[Any, list[Any] | None]] = collections.deque()

    def submit(self, key: Any, job: Job) -> None:
        self._jobs.put((key, job))

    def finished(self) -> list[tuple[Any, list[Any] | None]]:
        """Take the results finished since the last call."""
        out = []
        while self._done:
            out.append(self._done.popleft())
        return out

    def stop(self) -> None:
        self._jobs.put(None)

    def run(self) -> None:
        wake = self._context.socket(zmq.PUSH)
        wake.linger = 0
        wake.connect(self._wake_endpoint)
        try:
            while (item := self._jobs.get()) is not None:
                key, job = item
                frames: list[Any] | None
                try:
                    frames = job()
                except Exception:  # a job builds its own error replies; this is a last guard
                    log.exception("a call crashed outside its error handling")
                    frames = None
                self._done.append((key, frames))
                wake.send(b"")
        finally:
            wake.close()
