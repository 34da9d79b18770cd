"""The run engine: drives each slice's steps through the run state machine.

A step is a plan function (:mod:`fibsims.engine.steps`): a generator yielding messages
(:mod:`fibsims.engine.messages`) and receiving their results. The runner executes each message
(:mod:`fibsims.engine.dispatch`, the only code touching devices), emits one event stream every
consumer subscribes to (acquisitions and kept products included: the slice store assembles the
slice from it), treats ``Checkpoint`` as a safe point, and closes each slice by asking the store
to make it durable, then journalling it as committed with the run context it leaves.

Requests to pause or abort are honoured at safe points (before each step, between the parts of
a long one). A slice stopped part way is set aside (its data kept) and redone whole on resume
from the last committed context, so the resumed run is identical to one never stopped.

Whatever ends the run (a policy, a request, a time limit, or an error nobody foresaw), the
beam is blanked, the state says why, and :class:`RunFinished` is emitted; an unforeseen error
ends the run ``failed`` with its traceback in an :class:`EngineFault` event, never escaping.
"""

from __future__ import annotations

import contextlib
import copy
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fibsims.engine import messages as m
from fibsims.engine.context import RunContext, SliceContext
from fibsims.engine.dispatch import on_instrument
from fibsims.engine.driver import drive
from fibsims.engine.endings import FORESEEN, ending_of
from fibsims.engine.estimate import estimate_plan
from fibsims.engine.events import (
    Acquired,
    EngineFault,
    Event,
    EventSink,
    ProductKept,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepFinished,
    StepStarted,
)
from fibsims.engine.holds import hold_while
from fibsims.engine.journal import Journal
from fibsims.engine.plan import Plan, PlannedStep
from fibsims.engine.policy import StepPolicy, Stop
from fibsims.engine.preflight import run_preflight
from fibsims.engine.states import RunState, RunStateMachine, StepState, StepTracker
from fibsims.engine.steps import StepOutput, plan_for
from fibsims.engine.store import SliceSeal, SliceStore
from fibsims.engine.suspenders import Suspender
from fibsims.instrument.interfaces import Instrument


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
        max_hours: float | None = None,
        abort_requested: Callable[[], str | None] = lambda: None,
        uncounted_s: float = 0.0,
        context: RunContext | None = None,
        truth: bool = False,
    ) -> None:
        """``store`` is the first subscriber of the event stream (then ``sinks``);
        ``max_hours`` overrides the recipe's ``limits.max_hours`` (``resume --max-hours``);
        ``abort_requested`` is polled at every safe point for an abort asked from outside the
        process (``fibsims abort``), returning its reason; ``uncounted_s`` is instrument time
        earlier sessions spent that the clock no longer shows (holds and slices redone after a
        stop), which still counts against the time limit; ``context`` is the run context the
        last committed slice left (a resumed run); ``truth`` says ground-truth maps will be
        recorded (only for the data-volume estimate)."""
        self.plan = plan
        self.instrument = instrument
        self.store = store
        self.journal = journal
        self.sinks: list[EventSink] = [store, *sinks]
        self.seed = seed
        self.suspenders = list(suspenders)
        self.policy = StepPolicy(plan.recipe.on_error, instrument, self._emit)
        self.machine = RunStateMachine()
        self.context = context or RunContext()
        self.truth = truth
        self._pause_reason: str | None = None
        self._abort_reason: str | None = None
        self._critical = 0
        self._stop_now_reason: str | None = None
        self.max_hours = plan.recipe.limits.max_hours if max_hours is None else max_hours
        self.uncounted_s = uncounted_s
        self._abort_requested = abort_requested
        self._winding_down = False
        self._open: SliceSeal | None = None  # the slice in progress, for setting it aside
        self._step: tuple[int, int, str] = (-1, -1, "")  # (slice, position, kind) now running

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
        hold_while(self, suspender, reason)

    # -- the run --------------------------------------------------------------------------
    def run(self, first_slice: int = 0) -> RunOutcome:
        """Run slices ``first_slice`` .. end; return how the run ended."""
        planned = self.plan.slices_planned
        self._completed = first_slice
        self._left = planned - first_slice
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
                    truth=self.truth,
                )
                if first_slice:
                    self._restore_context()
                estimate = estimate_plan(self.plan, self.instrument.costs, first_slice, self.truth)
                self._emit(
                    RunStarted(
                        t_s=self._now(),
                        recipe=self.plan.recipe.recipe,
                        slices_planned=planned,
                        first_slice=first_slice,
                        instrument=self.instrument.name,
                        seed=self.seed,
                        expected_end_s=round(self._now() + estimate.total_s, 3),
                        expected_is_floor=estimate.lower_bound,
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

    def _restore_context(self) -> None:
        """A resumed run puts the instrument back as the last commit left it: the beam shift
        that follows the drift and the detector's settings (instrument state, which a twin
        opened afresh does not hold; both take no instrument time)."""
        context = self.context
        shift = (
            context.applied_um[0] - context.stage_offset_um[0],
            context.applied_um[1] - context.stage_offset_um[1],
        )
        if shift != (0.0, 0.0):
            on_instrument(self.instrument, m.SetBeamShift(shift))
        if context.contrast is not None and context.brightness is not None:
            on_instrument(self.instrument, m.SetDetector(context.contrast, context.brightness))

    def _run_slices(self, first_slice: int) -> None:
        planned = self.plan.slices_planned
        for index in range(first_slice, planned):
            self._left = planned - index
            self._safe_point()
            seal = self._run_slice(index)
            with self._critical_section():
                receipt = self.store.commit(seal)  # durable first ...
                self.journal.append(  # ... then committed
                    {
                        "entry": "slice_committed",
                        "slice": index,
                        "t_s": seal.finished_s,
                        "file_crc32": receipt.crc32,
                        "file_bytes": receipt.bytes,
                        "context": seal.context.record(),
                    }
                )
                self._open = None
                self._completed = index + 1
            self._emit(
                SliceCommitted(
                    t_s=self._now(),
                    slice=index,
                    face_z_um=seal.face_z_um,
                    duration_s=seal.finished_s - seal.started_s,
                    slices_completed=self._completed,
                    slices_planned=planned,
                )
            )

    def _run_slice(self, index: int) -> SliceSeal:
        slice_plan = self.plan.slice(index)
        started_s = self._now()
        measured = self.context.face_z_um
        self._open = self._seal(index, slice_plan.nominal_front_um, started_s, measured=False)
        tracker = StepTracker(len(slice_plan.steps))
        for number, planned in enumerate(slice_plan.steps):
            if number:
                self._safe_point()
            tracker.transition(number, StepState.RUNNING)
            output = self._run_step(index, slice_plan.nominal_front_um, planned)
            if output is None:  # an optional step failed: skipped and flagged
                tracker.transition(number, StepState.SKIPPED)
                continue
            tracker.transition(number, StepState.DONE)
            for suspender in self.suspenders:
                reason = suspender.after_step(planned.kind, output.metadata)
                if reason is not None:
                    raise Stop(RunState.PAUSED, f"suspended by {suspender.name}: {reason}")
        face_measured = self.context.face_z_um is not None and self.context.face_z_um != measured
        return self._seal(index, slice_plan.nominal_front_um, started_s, face_measured)

    def _run_step(self, index: int, front_um: float, planned: PlannedStep) -> StepOutput | None:
        started_s = self._now()
        position, kind = planned.position, planned.kind
        self._step = (index, position, kind)
        name = getattr(planned.step, "name", None)
        self._emit(
            StepStarted(
                t_s=started_s,
                slice=index,
                position=position,
                kind=kind,
                step_name=name if isinstance(name, str) else "",
            )
        )
        ctx = SliceContext(
            index=index,
            recipe=self.plan.recipe,
            run=self.context,
            nominal_front_um=front_um,
            position=position,
            product=planned.product,
            costs=self.instrument.costs,
        )

        def attempt() -> StepOutput:
            return drive(plan_for(kind)(planned.step, ctx), self._handle)

        output = self.policy.execute(kind, index, position, attempt)
        if output is not None:
            self._emit(
                StepFinished(
                    t_s=self._now(),
                    slice=index,
                    position=position,
                    kind=kind,
                    started_s=started_s,
                    duration_s=self._now() - started_s,
                    metadata=dict(output.metadata),
                    current_na=output.current_na,
                )
            )
        return output

    def _handle(self, msg: m.Msg) -> Any:
        """Execute one message of the running step's plan."""
        index, position, kind = self._step
        if isinstance(msg, m.Checkpoint):
            return self._safe_point()
        if isinstance(msg, m.Keep):
            self._emit(ProductKept(self._now(), index, position, kind, msg.name, msg.product))
            return None
        result = on_instrument(self.instrument, msg)
        if isinstance(msg, m.AcquireImage | m.AcquireRaster):
            self._emit(Acquired(self._now(), index, position, kind, msg.product, result))
        return result

    def _seal(self, index: int, front_um: float, started_s: float, measured: bool) -> SliceSeal:
        """Close the slice: its face, times, stage and a copy of the context it leaves."""
        context = copy.deepcopy(self.context)
        if self.instrument.truth is not None:  # a simulated sample's state commits with it
            context.sample_state = self.instrument.truth.sample_state()
        face = self.context.face_z_um if measured and self.context.face_z_um else front_um
        return SliceSeal(
            index=index,
            face_z_um=float(face),
            nominal_front_um=front_um,
            started_s=started_s,
            finished_s=self._now(),
            stage=self.instrument.stage.position(),
            context=context,
        )

    def _set_aside_partial(self) -> None:
        """The slice stopped part way is kept aside (redone whole on resume)."""
        if self._open is None:
            return
        with contextlib.suppress(Exception):  # the wind-down goes on whatever this meets
            self.store.set_aside(self._open)
        self._open = None

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
