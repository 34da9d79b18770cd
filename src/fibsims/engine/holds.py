"""Holding a run in place while a suspender's condition lasts (a beam current drop, a pressure
spike): beam blanked, state ``paused`` with the reason, polling on the instrument clock, and
back to ``running`` by itself once it clears; longer than ``max_wait_s``, or an abort, and the
run stops. Every hold is on the event stream (``HoldStarted``/``HoldEnded``), so the run's
incidents count it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fibsims.engine.events import HoldEnded, HoldStarted
from fibsims.engine.policy import Stop
from fibsims.engine.states import RunState
from fibsims.engine.suspenders import Suspender

if TYPE_CHECKING:
    from fibsims.engine.runner import RunEngine


def hold_while(engine: RunEngine, suspender: Suspender, reason: str | None) -> None:
    """Wait while ``suspender`` trips (or stop the run, for a suspender that pauses)."""
    if reason is None:
        return
    if suspender.action != "wait":
        raise Stop(RunState.PAUSED, f"suspended by {suspender.name}: {reason}")
    engine._safe_blank()
    engine._transition(RunState.PAUSED, f"waiting ({suspender.name}): {reason}")
    engine._emit(HoldStarted(t_s=engine._now(), suspender=suspender.name, reason=reason))
    waited = 0.0
    try:
        while reason is not None:
            if waited >= suspender.max_wait_s:
                raise Stop(
                    RunState.PAUSED,
                    f"{suspender.name} did not clear within {suspender.max_wait_s:g} s: {reason}",
                )
            engine._check_abort()
            engine.instrument.clock.sleep(suspender.poll_s)
            waited += suspender.poll_s
            reason = suspender.before_step(engine.instrument, engine._left)
    except BaseException:
        engine._emit(
            HoldEnded(t_s=engine._now(), suspender=suspender.name, held_s=waited, cleared=False)
        )
        raise
    engine._emit(
        HoldEnded(t_s=engine._now(), suspender=suspender.name, held_s=waited, cleared=True)
    )
    engine._transition(RunState.RUNNING, f"{suspender.name} cleared after {waited:g} s")
