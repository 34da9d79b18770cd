"""The run engine: drives a plan through the run state machine, slice by slice.

For each slice it executes the actions in order through the instrument interfaces, emits typed
events with instrument-clock timestamps, hands the finished slice to the store (durable), and
only then journals it as committed. Requests to pause or abort are honoured at safe points (the
end of the running step). A slice stopped part way is set aside (its data kept) and redone
whole on resume: the pattern front is absolute, so the redone mill is a cleaning pass, and the
resumed run is identical to one never stopped.

Whatever ends the run (a policy, a request, a time limit, or an error nobody foresaw), the
beam is blanked, the state says why, and :class:`RunFinished` is emitted; an unforeseen error
ends the run ``failed`` with its traceback in an :class:`EngineFault` event, never escaping.

Policies (:mod:`fibsims.engine.policy`) decide what a fault does; suspenders
(:mod:`fibsims.engine.suspenders`) hold the run while a watched condition is bad.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fibsims.engine.endings import FORESEEN, ending_of
from fibsims.engine.events import (
    EngineFault,
    Event,
    EventSink,
    HoldEnded,
    HoldStarted,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepFinished,
    StepStarted,
)
from fibsims.engine.execute import Product, StepHooks, StepOutput
from fibsims.engine.journal import Journal
from fibsims.engine.partial import SliceInProgress, combine_truth
from fibsims.engine.plan import Plan
from fibsims.engine.policy import StepPolicy, Stop
from fibsims.engine.preflight import run_preflight
from fibsims.engine.records import SliceRecord, StepRecord
from fibsims.engine.states import RunState, RunStateMachine, StepState, StepTracker
from fibsims.engine.store import SliceStore
from fibsims.engine.suspenders import Suspender
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Image, Raster


@dataclass(frozen=True)
class RunOutcome:
    status: RunState
    slices_completed: int
    reason: str
    t_s: float = 0.0
    """Instrument time when the run ended (time after the last commit is redone on resume)."""


class RunEngine:
    def __init__(
        self,
        plan: Plan,
        instrument: Instrument,
        store: SliceStore,
        journal: Journal,
        sinks: Sequence[EventSink] = (),
        seed: int = 0,
        suspenders: Sequence[Suspender] = (),
        collect_truth: bool = False,
        max_hours: float | None = None,
        abort_requested: Callable[[], str | None] = lambda: None,
        uncounted_s: float = 0.0,
    ) -> None:
        """``max_hours`` overrides the recipe's ``limits.max_hours`` (``resume --max-hours``);
        ``abort_requested`` is polled at every safe point for an abort asked from outside the
        process (``fibsims abort``), returning its reason; ``uncounted_s`` is instrument time
        earlier sessions spent that the clock no longer shows (holds and slices redone after a
        stop), which still counts against the time limit."""
        self.plan = plan
        self.instrument = instrument
        self.store = store
        self.journal = journal
        self.sinks = list(sinks)
        self.seed = seed
        self.suspenders = list(suspenders)
        self.truth = instrument.truth if collect_truth else None
        self.policy = StepPolicy(plan.recipe.on_error, instrument, self._emit)
        self.machine = RunStateMachine()
        self._pause_reason: str | None = None
        self._abort_reason: str | None = None
        self._critical = 0
        self._stop_now_reason: str | None = None
        self.max_hours = plan.recipe.limits.max_hours if max_hours is None else max_hours
        self.uncounted_s = uncounted_s
        self._abort_requested = abort_requested
        self._part_truth: list[tuple[int, dict[str, np.ndarray]]] = []
        self._winding_down = False

    # -- requests (safe to call from a signal handler) --------------------------------------
    def request_pause(self, reason: str = "pause requested") -> None:
        """Pause at the end of the running step."""
        self._pause_reason = reason

    def request_abort(self, reason: str = "abort requested") -> None:
        """Abort at the end of the running step."""
        self._abort_reason = reason

    def stop_now(self, reason: str = "stopped at once") -> None:
        """Stop at once (raises in the caller's frame, i.e. wherever the engine is), except
        inside the store-then-journal commit, which finishes first. The run ends paused."""
        self._stop_now_reason = reason
        if self._critical == 0:
            raise Stop(RunState.PAUSED, reason)

    @contextlib.contextmanager
    def _critical_section(self) -> Iterator[None]:
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
        if self._critical == 0 and self._stop_now_reason is not None:
            raise Stop(RunState.PAUSED, self._stop_now_reason)

    # -- plumbing -------------------------------------------------------------------------
    @property
    def state(self) -> RunState:
        return self.machine.state

    def _now(self) -> float:
        return self.instrument.clock.now_s()

    def _emit(self, event: Event) -> None:
        """Every sink sees every event; the first sink error is raised after all have been
        called (while winding down it is swallowed: the outcome matters more)."""
        failure: Exception | None = None
        for sink in self.sinks:
            try:
                sink(event)
            except Exception as error:
                failure = failure or error
        if failure is not None and not self._winding_down:
            raise failure

    def _transition(self, target: RunState, reason: str = "") -> None:
        previous = self.machine.transition(target)
        self._emit(
            StateChanged(t_s=self._safe_now(), previous=previous, state=target, reason=reason)
        )

    def _check_abort(self) -> None:
        outside = self._abort_requested()
        if outside is not None and self._abort_reason is None:
            self._abort_reason = outside
        if self._abort_reason is not None:
            raise Stop(RunState.ABORTED, self._abort_reason)

    def _safe_point(self) -> None:
        """Before every step (and between the parts of a long one): honour an abort, then a
        pause, then the time limit, then the suspenders' instrument checks."""
        self._check_abort()
        if self._pause_reason is not None:
            raise Stop(RunState.PAUSED, self._pause_reason)
        if self._now() + self.uncounted_s >= self.max_hours * 3600.0:
            raise Stop(
                RunState.PAUSED,
                f"limits.max_hours ({self.max_hours:g} h of instrument time) reached after "
                f"{self._completed} of {self.plan.slices_planned} slices; to go on, "
                "`fibsims resume DIR --max-hours H` with a larger H",
            )
        for suspender in self.suspenders:
            self._hold_while(suspender, suspender.before_step(self.instrument, self._left))

    def _hold_while(self, suspender: Suspender, reason: str | None) -> None:
        """Wait (polling on the instrument clock) while ``suspender`` trips, or pause."""
        if reason is None:
            return
        if suspender.action != "wait":
            raise Stop(RunState.PAUSED, f"suspended by {suspender.name}: {reason}")
        self._safe_blank()
        self._transition(RunState.PAUSED, f"waiting ({suspender.name}): {reason}")
        self._emit(HoldStarted(t_s=self._now(), suspender=suspender.name, reason=reason))
        waited = 0.0
        try:
            while reason is not None:
                if waited >= suspender.max_wait_s:
                    raise Stop(
                        RunState.PAUSED,
                        f"{suspender.name} did not clear within {suspender.max_wait_s:g} s: "
                        f"{reason}",
                    )
                self._check_abort()
                self.instrument.clock.sleep(suspender.poll_s)
                waited += suspender.poll_s
                reason = suspender.before_step(self.instrument, self._left)
        except BaseException:
            self._emit(
                HoldEnded(t_s=self._now(), suspender=suspender.name, held_s=waited, cleared=False)
            )
            raise
        self._emit(
            HoldEnded(t_s=self._now(), suspender=suspender.name, held_s=waited, cleared=True)
        )
        self._transition(RunState.RUNNING, f"{suspender.name} cleared after {waited:g} s")

    # -- the run --------------------------------------------------------------------------
    def run(self, first_slice: int = 0) -> RunOutcome:
        """Run slices ``first_slice`` .. end; return how the run ended."""
        planned = self.plan.slices_planned
        self._completed = first_slice
        self._left = planned - first_slice
        self._partial: SliceInProgress | None = None
        try:
            status, reason = self._run_guarded(first_slice)
        finally:  # even a BaseException (SystemExit, a stray KeyboardInterrupt) blanks
            self._critical += 1  # nothing may interrupt the wind-down
            self._safe_blank()
        self._set_aside_partial()
        self._winding_down = True  # sinks that fail now must not hide how the run ended
        if self.machine.state is not status and self.machine.can(status):
            self._transition(status, reason)
        self._emit(
            RunFinished(
                t_s=self._safe_now(),
                status=status.value,
                slices_completed=self._completed,
                slices_planned=planned,
                reason=reason,
                beam_blanked=self._is_blanked(),
            )
        )
        return RunOutcome(
            status=status, slices_completed=self._completed, reason=reason, t_s=self._safe_now()
        )

    def _run_guarded(self, first_slice: int) -> tuple[RunState, str]:
        """Run the slices; turn every way the run can end into (state, reason)."""
        planned = self.plan.slices_planned
        status, reason = RunState.FAILED, ""
        try:
            try:
                self._transition(RunState.PREFLIGHT)
                run_preflight(
                    self.plan,
                    self.instrument,
                    first_slice=first_slice,
                    start_s=self._now() + self.uncounted_s,
                    max_hours=self.max_hours,
                    truth=self.truth is not None,
                )
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
                self._run_slices(first_slice)
                status = RunState.COMPLETED
            except Stop as stop:
                status, reason = stop.state, stop.reason
            except Exception as error:  # every other way: classified, never escaping
                status, reason = ending_of(error, self.plan.recipe.on_error.on_hardware_fault)
                if not isinstance(error, FORESEEN):
                    with contextlib.suppress(Exception):  # a sink failing too must not escape
                        self._emit(
                            EngineFault(
                                t_s=self._safe_now(),
                                error=f"{type(error).__name__}: {error}",
                                traceback=traceback.format_exc(),
                            )
                        )
        except Stop as stop:  # a stop-now that landed in a handler above
            status, reason = stop.state, stop.reason
        return status, reason

    def _run_slices(self, first_slice: int) -> None:
        planned = self.plan.slices_planned
        for index in range(first_slice, planned):
            self._left = planned - index
            self._safe_point()
            record = self._run_slice(index)
            with self._critical_section():
                receipt = self.store.write_slice(record)  # durable first ...
                self.journal.append(  # ... then committed
                    {
                        "entry": "slice_committed",
                        "slice": index,
                        "t_s": record.finished_s,
                        "file_crc32": receipt.crc32,
                        "file_bytes": receipt.bytes,
                    }
                )
                self._partial = None
                self._completed = index + 1
            self._emit(
                SliceCommitted(
                    t_s=self._now(),
                    slice=index,
                    face_z_um=record.face_z_um,
                    duration_s=record.duration_s,
                    slices_completed=self._completed,
                    slices_planned=planned,
                )
            )

    def _run_slice(self, index: int) -> SliceRecord:
        slice_plan = self.plan.slice(index)
        tracker = StepTracker(len(slice_plan.actions))
        partial = SliceInProgress(index, slice_plan.face_z_um, self._now())
        self._partial = partial
        for position, action in enumerate(slice_plan.actions):
            if position:
                self._safe_point()
            tracker.transition(position, StepState.RUNNING)
            step_start = self._now()
            self._emit(
                StepStarted(t_s=step_start, slice=index, position=position, kind=action.kind)
            )
            self._part_truth.clear()
            output = self.policy.execute(action, index, position, self._hooks)
            if output is None:  # an optional step failed: skipped and flagged
                tracker.transition(position, StepState.SKIPPED)
                continue
            tracker.transition(position, StepState.DONE)
            metadata: dict[str, Any] = dict(output.metadata)
            self._keep(partial, position, action.kind, action.product, step_start, output)
            self._emit(
                StepFinished(
                    t_s=self._now(),
                    slice=index,
                    position=position,
                    kind=action.kind,
                    started_s=step_start,
                    duration_s=self._now() - step_start,
                    metadata=metadata,
                )
            )
            for suspender in self.suspenders:
                reason = suspender.after_step(action.kind, metadata)
                if reason is not None:
                    raise Stop(RunState.PAUSED, f"suspended by {suspender.name}: {reason}")
        return partial.record(self._now(), self.instrument)

    def _keep(
        self,
        partial: SliceInProgress,
        position: int,
        kind: str,
        product: str | None,
        started_s: float,
        output: StepOutput,
    ) -> None:
        partial.steps.append(
            StepRecord(position, kind, started_s, self._now(), output.current_na, output.metadata)
        )
        if isinstance(output.product, Image) and product:
            partial.images[product] = output.product
        elif isinstance(output.product, Raster) and product:
            partial.rasters[product] = output.product
        if product and self._part_truth:
            partial.truth[product] = combine_truth(self._part_truth)

    @property
    def _hooks(self) -> StepHooks:
        return StepHooks(checkpoint=self._safe_point, part_done=self._collect_truth)

    def _collect_truth(self, part: Product) -> None:
        """Truth of one acquired part (an acquisition split into parts has one per part)."""
        if self.truth is None:
            return
        if isinstance(part, Image):
            self._part_truth.append((part.frames, self.truth.last_image_truth()))
        else:
            self._part_truth.append((part.frames, self.truth.last_raster_truth()))

    def _set_aside_partial(self) -> None:
        partial = self._partial
        if partial is None or not (partial.images or partial.rasters or partial.steps):
            return
        # the slice is redone on resume; nothing committed depends on this copy
        with contextlib.suppress(Exception):  # the wind-down goes on whatever this meets
            self.store.set_aside(partial.record(self._now(), self.instrument))
        self._partial = None

    def _is_blanked(self) -> bool | None:
        """The beam's state, or None when it cannot be read (link lost, column fault)."""
        try:
            return self.instrument.column.is_blanked()
        except Exception:
            return None

    def _safe_blank(self) -> None:
        """Blank, whatever state the instrument is in; a failure is reported by
        :meth:`_is_blanked` (beam state unknown), never raised over the run's own reason."""
        with contextlib.suppress(Exception):
            self.instrument.column.blank()

    def _safe_now(self) -> float:
        try:
            return self._now()
        except Exception:
            return 0.0
