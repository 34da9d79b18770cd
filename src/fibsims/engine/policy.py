"""Error policy per step: what a fault during a step does to the run.

- A transient fault (:class:`TransientInstrumentError`) is retried with exponential backoff
  (tenacity), waiting on the *instrument* clock, up to ``on_error.retry_attempts`` tries; a
  retry runs the step's plan function again from its start.
- An optional step (``on_error.optional_steps``, e.g. autofocus) that still fails is skipped
  and flagged: the slice goes on without it.
- A safety interlock (:class:`SafetyInterlock`) aborts the run; it is never retried.
- Any other instrument fault pauses the run (or aborts it, as ``on_error.on_hardware_fault``
  says), with the fault as the reason, so a person can look and ``resume``.
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from fibsims.engine.events import Event, StepRetried, StepSkipped
from fibsims.engine.states import RunState
from fibsims.engine.steps import StepOutput
from fibsims.instrument.errors import (
    InstrumentError,
    SafetyInterlock,
    TransientInstrumentError,
)
from fibsims.instrument.interfaces import Instrument
from fibsims.recipe import ErrorPolicy


class Stop(Exception):
    """Ends the slice loop: the run goes to ``state`` for ``reason``."""

    def __init__(self, state: RunState, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


class StepPolicy:
    def __init__(
        self, config: ErrorPolicy, instrument: Instrument, emit: Callable[[Event], None]
    ) -> None:
        self.config = config
        self.instrument = instrument
        self.emit = emit

    def execute(
        self, kind: str, slice_index: int, position: int, attempt: Callable[[], StepOutput]
    ) -> StepOutput | None:
        """Run one step (``attempt`` runs it once) under the policy; None means it was skipped
        and flagged."""
        try:
            return self._with_retries(kind, slice_index, position, attempt)
        except SafetyInterlock as error:
            reason = f"safety interlock during {kind}: {error}"
            raise Stop(RunState.ABORTED, reason) from None
        except InstrumentError as error:
            described = f"{type(error).__name__} during {kind} of slice {slice_index}"
            if kind in self.config.optional_steps:
                self.emit(
                    StepSkipped(
                        t_s=self.instrument.clock.now_s(),
                        slice=slice_index,
                        position=position,
                        kind=kind,
                        reason=f"{described}: {error}",
                    )
                )
                return None
            abort = self.config.on_hardware_fault == "abort"
            state = RunState.ABORTED if abort else RunState.PAUSED
            raise Stop(state, f"{described}: {error}") from None

    def _with_retries(
        self, kind: str, slice_index: int, position: int, attempt: Callable[[], StepOutput]
    ) -> StepOutput:
        def announce(retry: RetryCallState) -> None:
            error = retry.outcome.exception() if retry.outcome else None
            self.emit(
                StepRetried(
                    t_s=self.instrument.clock.now_s(),
                    slice=slice_index,
                    position=position,
                    kind=kind,
                    attempt=retry.attempt_number,
                    wait_s=retry.upcoming_sleep,
                    error=str(error),
                )
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.config.retry_attempts),
            wait=wait_exponential(multiplier=self.config.retry_backoff_s, max=3600),
            retry=retry_if_exception_type(TransientInstrumentError),
            sleep=self.instrument.clock.sleep,
            before_sleep=announce,
            reraise=True,
        )
        return retrying(attempt)
