"""Signals during a run: Ctrl-C pauses safely, a second Ctrl-C stops at once, SIGTERM pauses,
SIGUSR1 (sent by ``fibsims abort``) aborts.

Handlers only set requests on the engine (or, for the second Ctrl-C, raise in the engine's
frame); the engine honours them at its safe points, blanks the beam and persists its state.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from fibsims.engine.runner import RunEngine


def _say(text: str) -> None:
    print(f"\n{text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def interrupt_handlers(engine: RunEngine) -> Iterator[None]:
    """Install the run's signal handlers for the duration of the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts = 0

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            _say(
                "Ctrl-C: pausing at the end of the running step (the beam will be blanked). "
                "Press Ctrl-C again to stop at once."
            )
            engine.request_pause("Ctrl-C (SIGINT): pause requested")
        else:
            engine.stop_now("second Ctrl-C: stopped at once")

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        engine.request_pause("SIGTERM: pause requested")

    def on_abort(signum: int, frame: FrameType | None) -> None:
        engine.request_abort("aborted by `fibsims abort`")

    handlers = {
        signal.SIGINT: on_interrupt,
        signal.SIGTERM: on_terminate,
        signal.SIGUSR1: on_abort,
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
