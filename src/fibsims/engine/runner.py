"""The run engine: drives a plan through the run state machine, slice by slice.

For each slice it executes the actions in order through the instrument interfaces, emits typed
events with instrument-clock timestamps, hands the finished slice to the store (durable), and
only then journals it as committed. Pause and abort requests are honoured at safe points
(between steps and between slices), never in the middle of an instrument action. Whatever ends
the run, the beam is blanked on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fibsims.engine.events import (
    Event,
    EventSink,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepFinished,
    StepStarted,
)
from fibsims.engine.execute import execute
from fibsims.engine.journal import Journal
from fibsims.engine.plan import Plan
from fibsims.engine.preflight import PreflightError, run_preflight
from fibsims.engine.records import SliceRecord, StepRecord
from fibsims.engine.states import RunState, RunStateMachine, StepState, StepTracker
from fibsims.engine.store import SliceStore, StoreError
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Image, Raster


@dataclass(frozen=True)
class RunOutcome:
    status: RunState
    slices_completed: int
    reason: str


class _Stop(Exception):
    """Raised inside the slice loop when a pause or abort request is honoured."""

    def __init__(self, state: RunState, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


class RunEngine:
    def __init__(
        self,
        plan: Plan,
        instrument: Instrument,
        store: SliceStore,
        journal: Journal,
        sinks: Sequence[EventSink] = (),
        seed: int = 0,
    ) -> None:
        self.plan = plan
        self.instrument = instrument
        self.store = store
        self.journal = journal
        self.sinks = list(sinks)
        self.seed = seed
        self.machine = RunStateMachine()
        self._pause_reason: str | None = None
        self._abort_reason: str | None = None

    # -- requests (safe to call from a signal handler) --------------------------------------
    def request_pause(self, reason: str = "pause requested") -> None:
        self._pause_reason = reason

    def request_abort(self, reason: str = "abort requested") -> None:
        self._abort_reason = reason

    # -- plumbing -------------------------------------------------------------------------
    @property
    def state(self) -> RunState:
        return self.machine.state

    def _now(self) -> float:
        return self.instrument.clock.now_s()

    def _emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)

    def _transition(self, target: RunState, reason: str = "") -> None:
        previous = self.machine.transition(target)
        self._emit(StateChanged(t_s=self._now(), previous=previous, state=target, reason=reason))

    def _checkpoint(self) -> None:
        """A safe point: honour an abort, then a pause."""
        if self._abort_reason is not None:
            raise _Stop(RunState.ABORTED, self._abort_reason)
        if self._pause_reason is not None:
            raise _Stop(RunState.PAUSED, self._pause_reason)

    # -- the run --------------------------------------------------------------------------
    def run(self, first_slice: int = 0) -> RunOutcome:
        """Run slices ``first_slice`` .. end; return how the run ended."""
        completed = first_slice
        planned = self.plan.slices_planned
        status, reason = RunState.FAILED, ""
        try:
            self._transition(RunState.PREFLIGHT)
            run_preflight(self.plan, self.instrument)
            self._emit(
                RunStarted(
                    t_s=self._now(),
                    recipe=self.plan.recipe.recipe,
                    slices_planned=planned,
                    first_slice=first_slice,
                    instrument=self.instrument.name,
                    seed=self.seed,
                )
            )
            self._transition(RunState.RUNNING)
            limit_s = self.plan.recipe.limits.max_hours * 3600.0
            for index in range(first_slice, planned):
                self._checkpoint()
                if self._now() >= limit_s:
                    raise _Stop(
                        RunState.ABORTED,
                        f"limits.max_hours ({self.plan.recipe.limits.max_hours:g} h) reached "
                        f"after {completed} of {planned} slices; raise it to go further",
                    )
                record = self._run_slice(index)
                self.store.write_slice(record)  # durable first ...
                self.journal.append(  # ... then committed
                    {"entry": "slice_committed", "slice": index, "t_s": record.finished_s}
                )
                completed = index + 1
                self._emit(
                    SliceCommitted(
                        t_s=self._now(),
                        slice=index,
                        face_z_um=record.face_z_um,
                        duration_s=record.duration_s,
                        slices_completed=completed,
                        slices_planned=planned,
                    )
                )
            status = RunState.COMPLETED
        except _Stop as stop:
            status, reason = stop.state, stop.reason
        except PreflightError as error:
            reason = str(error)
        except (InstrumentError, StoreError) as error:
            reason = f"{type(error).__name__}: {error}"
        finally:
            self._safe_blank()
        self._transition(status, reason)
        self._emit(
            RunFinished(
                t_s=self._now(),
                status=status.value,
                slices_completed=completed,
                slices_planned=planned,
                reason=reason,
            )
        )
        return RunOutcome(status=status, slices_completed=completed, reason=reason)

    def _safe_blank(self) -> None:
        try:
            self.instrument.column.blank()
        except InstrumentError:  # pragma: no cover - a column that cannot blank is reported
            self._emit(StateChanged(t_s=self._now(), previous="", state="", reason="blank failed"))

    def _run_slice(self, index: int) -> SliceRecord:
        slice_plan = self.plan.slice(index)
        tracker = StepTracker(len(slice_plan.actions))
        started = self._now()
        steps: list[StepRecord] = []
        images: dict[str, Image] = {}
        rasters: dict[str, Raster] = {}
        for position, action in enumerate(slice_plan.actions):
            if position:
                self._checkpoint_within_slice()
            tracker.transition(position, StepState.RUNNING)
            step_start = self._now()
            self._emit(
                StepStarted(t_s=step_start, slice=index, position=position, kind=action.kind)
            )
            try:
                output = execute(self.instrument, action)
            except InstrumentError:
                tracker.transition(position, StepState.FAILED)
                raise
            tracker.transition(position, StepState.DONE)
            step_end = self._now()
            metadata: dict[str, Any] = dict(output.metadata)
            steps.append(
                StepRecord(
                    position=position,
                    kind=action.kind,
                    started_s=step_start,
                    finished_s=step_end,
                    current_na=output.current_na,
                    metadata=metadata,
                )
            )
            if isinstance(output.product, Image) and action.product:
                images[action.product] = output.product
            elif isinstance(output.product, Raster) and action.product:
                rasters[action.product] = output.product
            self._emit(
                StepFinished(
                    t_s=step_end,
                    slice=index,
                    position=position,
                    kind=action.kind,
                    started_s=step_start,
                    duration_s=step_end - step_start,
                    metadata=metadata,
                )
            )
        return SliceRecord(
            index=index,
            face_z_um=slice_plan.face_z_um,
            started_s=started,
            finished_s=self._now(),
            stage=self.instrument.stage.position(),
            steps=tuple(steps),
            images=images,
            rasters=rasters,
        )

    def _checkpoint_within_slice(self) -> None:
        """Inside a slice only an abort stops at once; a pause waits for the slice to finish,
        so a paused run never leaves a half-acquired slice to redo."""
        if self._abort_reason is not None:
            raise _Stop(RunState.ABORTED, self._abort_reason)
