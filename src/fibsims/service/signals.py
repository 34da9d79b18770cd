"""Signals for the whole life of ``run`` and ``resume``, from the first instruction to exit.

Why for the whole life: a Ctrl-C in the first second (while the recipe loads or the instrument
opens) must not print a traceback, and a SIGTERM or SIGUSR1 while run.h5 is being written must
not kill the process half-way. What a signal does depends on the phase:

=============  =========================  ==============================  ===================
phase          Ctrl-C (SIGINT)            SIGTERM                         SIGUSR1 (abort)
=============  =========================  ==============================  ===================
starting       stop: nothing has run      stop: nothing has run           stop: nothing ran
running        pause at the end of the    pause at the end of the step    abort at the end of
               step; again: stop at once                                  the step
finalizing     keep finishing run.h5;     keep finishing (seconds)        abort once written
               again: stop at the next                                    (unless completed)
               slice it copies
=============  =========================  ==============================  ===================

"Stop at once" while finalizing leaves the run ``finalizing``; ``fibsims resume`` finishes it.
Handlers only set requests (or raise :class:`Interrupted` in the main thread); the engine
honours requests at its safe points, blanks the beam and persists its state.

Platforms (:mod:`fibsims.data.platform`): ``fibsims abort`` never signals; it asks a live run
to abort through ``abort.request`` in the run folder, which works everywhere. SIGUSR1 does not
exist on Windows (there is no handler for it there), and SIGTERM sent by another process is a
hard kill (``TerminateProcess``), never this handler. Ctrl-C in the run's console is SIGINT on
both; Ctrl-Break (Windows) is SIGBREAK and acts as SIGTERM does in the table above.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from fibsims.data.platform import abort_signal, pause_signals
from fibsims.engine.runner import RunEngine


class Interrupted(Exception):
    """A signal stopped the command outside the engine (starting, or finalizing)."""


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _say(text: str) -> None:
    print(f"\n{text}", file=sys.stderr, flush=True)


class RunControl:
    """Routes signals to the phase the command is in (see the module docstring)."""

    def __init__(self) -> None:
        self.phase = "starting"
        self.engine: RunEngine | None = None
        self.abort_requested = False
        self.stop_requested: str | None = None
        self.pause_requested: str | None = None
        """A pause asked for while finalizing (which finishes first): a multi-site run
        stops before its next site."""
        self._interrupts = 0
        self._before = "the run started; nothing was milled"

    def check(self) -> None:
        """Raise :class:`Interrupted` if a stop was asked for: finalizing calls this between
        slices, so a stop whose exception landed where Python ignores exceptions (a garbage
        collector's callback) still takes effect."""
        if self.stop_requested is not None:
            raise Interrupted(self.stop_requested)

    def attach(self, engine: RunEngine) -> None:
        self.engine, self.phase, self._interrupts = engine, "running", 0

    def finalizing(self) -> None:
        self.engine, self.phase, self._interrupts = None, "finalizing", 0

    def next_session(self, before: str) -> None:
        """Between the sites of a multi-site run: as before the first (a signal stops it);
        ``before`` ends the message (``site 'b' started; ...``)."""
        self.engine, self.phase, self._interrupts, self._before = None, "starting", 0, before

    def on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self._interrupts += 1
        if self.phase == "starting":
            raise Interrupted(f"interrupted (Ctrl-C) before {self._before}")
        if self.phase == "finalizing":
            self.pause_requested = "Ctrl-C (SIGINT) while finalizing"
            if self._interrupts == 1:
                _say(
                    "Ctrl-C: finishing run.h5 (usually seconds); press Ctrl-C again to stop at "
                    "once (the data is safe; `fibsims resume` then finishes the run file)."
                )
                return
            # no raise from here: it could land where Python ignores exceptions (a garbage
            # collector's callback); the run-file writer checks this between slices
            self.stop_requested = "stopped (second Ctrl-C) while finalizing"
            return
        assert self.engine is not None
        if self._interrupts == 1:
            _say(
                "Ctrl-C: pausing at the end of the running step (the beam will be blanked). "
                "Press Ctrl-C again to stop at once."
            )
            self.engine.request_pause("Ctrl-C (SIGINT): pause requested")
        else:
            self.engine.stop_now("second Ctrl-C: stopped at once")

    def on_terminate(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM, or SIGBREAK (Ctrl-Break) on Windows: pause at the end of the step."""
        name = _name(signum)
        if self.phase == "starting":
            raise Interrupted(f"terminated ({name}) before {self._before}")
        if self.phase == "finalizing":
            self.pause_requested = f"{name} while finalizing"
            _say(f"{name}: finishing run.h5 first (usually seconds).")
            return
        assert self.engine is not None
        self.engine.request_pause(f"{name}: pause requested")

    def on_abort(self, signum: int, frame: FrameType | None) -> None:
        if self.phase == "starting":
            raise Interrupted(f"aborted (SIGUSR1) before {self._before}")
        self.abort_requested = True
        if self.engine is not None:
            self.engine.request_abort("aborted by SIGUSR1")


@contextlib.contextmanager
def run_control() -> Iterator[RunControl]:
    """Install the handlers for the block (main thread only; elsewhere they cannot be)."""
    control = RunControl()
    if threading.current_thread() is not threading.main_thread():
        yield control
        return
    handlers = {signal.SIGINT: control.on_interrupt}
    handlers.update(dict.fromkeys(pause_signals(), control.on_terminate))
    abort = abort_signal()
    if abort is not None:  # POSIX only; the abort request file works everywhere
        handlers[abort] = control.on_abort
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield control
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
