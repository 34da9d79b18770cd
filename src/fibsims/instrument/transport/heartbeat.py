"""The client's idle heartbeat: proof of life between calls.

Why: the server blanks the beam of a session whose client has said nothing for the client's
``dead_after_s``, because a dead client cannot blank it. While a call is outstanding the link
pings by itself; between calls (the engine writing a slice file, consolidating the run, waiting
on a disk) this thread has the link ping, so a live client is never taken for a dead one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("fibsims.link.client")


class IdleHeartbeat:
    """Calls ``beat`` every ``period_s`` on a daemon thread until :meth:`stop`."""

    def __init__(self, beat: Callable[[], None], period_s: float) -> None:
        self._beat = beat
        self._period_s = period_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="fibsims-link-heartbeat", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(max(1.0, 10 * self._period_s))

    def _run(self) -> None:
        while not self._stopping.wait(self._period_s):
            try:
                self._beat()
            except Exception:  # a missed beat is recovered by the next; never end the thread
                log.exception("an idle heartbeat failed")
