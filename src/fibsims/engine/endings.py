"""How an error that reached the runner ends the run: the state it leaves, and why.

Step faults are judged by the step policy (:mod:`fibsims.engine.policy`); these are the errors
that arrive anywhere else: preflight, the store, a sink, an instrument call between steps (a
lost link, a stage read-back), or a bug. Each maps to a state a person can act on, and nothing
escapes the engine: an error nobody foresaw fails the run, whose traceback the runner logs.
"""

from __future__ import annotations

from fibsims.engine.preflight import PreflightError
from fibsims.engine.states import RunState
from fibsims.engine.store import StoreError
from fibsims.instrument.errors import HardwareFault, InstrumentError, SafetyInterlock

FORESEEN = (PreflightError, StoreError, InstrumentError, OSError)
"""Errors with a meaning of their own; any other is a bug, reported with its traceback."""


def ending_of(error: Exception, on_hardware_fault: str) -> tuple[RunState, str]:
    """(state, reason) for ``error``; ``on_hardware_fault`` is the recipe's ``on_error`` rule."""
    if isinstance(error, PreflightError):
        return RunState.FAILED, str(error)
    if isinstance(error, StoreError):
        return RunState.PAUSED, f"StoreError: {error}"
    if isinstance(error, SafetyInterlock):  # outside a step too: never go on
        return RunState.ABORTED, f"safety interlock: {error}"
    if isinstance(error, HardwareFault):
        state = RunState.ABORTED if on_hardware_fault == "abort" else RunState.PAUSED
        return state, f"{type(error).__name__}: {error}"
    if isinstance(error, InstrumentError):
        return RunState.FAILED, f"{type(error).__name__}: {error}"
    if isinstance(error, OSError):  # a sink could not write (disk full, folder gone)
        return RunState.PAUSED, (
            f"could not write to the run folder: {error.strerror or error}; free space or fix "
            "the folder, then resume"
        )
    return RunState.FAILED, (
        f"unexpected {type(error).__name__}: {error} (a fibsims bug; the traceback is in log.jsonl)"
    )
