"""What a plan will take before anything moves: instrument time per step kind, and data volume.

How: each step's own plan function is driven against :class:`DryRun`, which answers every
message from the backend's :class:`~fibsims.instrument.interfaces.CostModel` (a pattern's
time, a scan's time, a stage move) instead of the instrument. So the estimate is made from the
very messages the run will send, and a new step kind is costed with no code of its own. A
backend without a cost model gets :class:`~fibsims.engine.costs.LowerBoundCosts`: the estimate
is then a floor and says so.

Slices differ only in where the cut goes (which costs nothing extra) and in what their
schedules add (tasks, and steps run every N slices), so one slice is driven and the schedules
are counted, each scheduled task or step driven once: a 100,000-slice plan is estimated in
milliseconds.

The images and rasters the dry run answers with make their arrays (importing numpy) only when a
plan reads them: the built-in plans do not in a dry run, so ``fibsims estimate`` does not pay
numpy's import, about a quarter of its start-up (issue 13).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from fibsims.engine import messages as m
from fibsims.engine.context import RunContext, SliceContext
from fibsims.engine.costs import LowerBoundCosts
from fibsims.engine.driver import drive
from fibsims.engine.plan import SETUP, Plan, PlannedStep
from fibsims.engine.steps import plan_for
from fibsims.engine.steps.parts import frame_s
from fibsims.instrument.interfaces import CostModel
from fibsims.instrument.types import (
    FocusResult,
    Image,
    MillResult,
    Raster,
    Spectrum,
    StagePosition,
)

SE_PIXEL_BYTES = 2  # uint16 counts
SIMS_PIXEL_BYTES = 4  # uint32 counts per peak
SPECTRUM_SAMPLE_BYTES = 8 + 4  # float64 counts and float32 mass axis, per sample
TRUTH_PIXEL_BYTES = 1 + 4  # at least the uint8 labels and float32 Li fraction per product
CURRENT_CHANGE = "current_change"
T = TypeVar("T")


class _StandIn:
    """A dry run's answer to an acquisition: its arrays (zeros) are made on first read.

    Why: the built-in plans do not read them in a dry run (``SliceContext.dry_run``), so an
    estimate never imports numpy; a step kind that does read them gets real arrays."""

    ARRAYS: ClassVar[tuple[str, ...]] = ()

    def __getattr__(self, name: str) -> Any:
        """Reached only for what is not set: one of the arrays, made with the others."""
        if name not in self.ARRAYS:
            raise AttributeError(name)
        for key, value in self._arrays().items():
            object.__setattr__(self, key, value)
        return self.__dict__[name]

    def _arrays(self) -> dict[str, Any]:
        raise NotImplementedError


def _unmade(cls: type[T], **values: Any) -> T:
    """A ``cls`` holding ``values``, its arrays not made yet (its dataclass __init__ would need
    them)."""
    stand_in = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(stand_in, name, value)
    return stand_in


class _DryImage(_StandIn, Image):
    ARRAYS = ("pixels",)

    def _arrays(self) -> dict[str, Any]:
        import numpy as np

        return {"pixels": np.zeros((1, 1), dtype=np.uint16)}


class _DryRaster(_StandIn, Raster):
    ARRAYS = ("count_maps", "spectrum", "saturated_lines")
    n_peaks: int

    def _arrays(self) -> dict[str, Any]:
        import numpy as np

        empty = np.zeros(1)
        return {
            "count_maps": np.zeros((self.n_peaks, 1, 1), dtype=np.uint32),
            "spectrum": Spectrum(empty, empty.astype(np.float32), 1.0, 0.0, 1e-9),
            "saturated_lines": np.zeros(1, dtype=np.uint8),
        }


@dataclass
class DryRun:
    """Answers a plan's messages from a cost model; keeps the time, data and longest frame."""

    costs: CostModel
    truth: bool = False
    seconds: float = 0.0
    data_bytes: int = 0
    current_na: float | None = None
    current_changes: int = 0
    stage: StagePosition = field(default_factory=StagePosition)
    longest_frame_s: float = 0.0
    dose_nc: float = 0.0
    """Ion charge delivered while the beam mills or scans (current x beam-on time)."""
    _product_bytes: dict[str, int] = field(default_factory=dict)

    def _beam_on(self, duration_s: float) -> None:
        self.seconds += duration_s
        self.dose_nc += (self.current_na or 0.0) * duration_s

    def __call__(self, msg: m.Msg) -> Any:
        costs = self.costs
        if isinstance(msg, m.SelectCurrent):
            if msg.current_na != self.current_na:
                self.current_changes += 1
                self.seconds += costs.current_change_s() if self.current_na is not None else 0
                self.current_na = msg.current_na
            return msg.current_na
        if isinstance(msg, m.MoveStage):
            self.seconds += costs.move_s(self.stage, msg.target)
            self.stage = msg.target
            return msg.target
        if isinstance(msg, m.ReadStage):
            return self.stage
        if isinstance(msg, m.ReadDetector):
            return (0.5, 0.5)
        if isinstance(msg, m.ReadClock):
            return self.seconds
        if isinstance(msg, m.Mill):
            duration = costs.mill_s(msg.pattern, self.current_na or 1.0, self.stage)
            self._beam_on(duration)
            return MillResult(duration, 0.0, msg.pattern.front_z_um, self.current_na or 0.0)
        if isinstance(msg, m.AcquireImage):
            return self._image(msg)
        if isinstance(msg, m.AcquireRaster):
            return self._raster(msg)
        if isinstance(msg, m.Autofocus):
            duration = costs.autofocus_s()
            self._beam_on(duration)
            return FocusResult(duration)
        if isinstance(msg, m.Keep):
            self.data_bytes += self._product_bytes.get(msg.name, 0)
        return None

    def _image(self, msg: m.AcquireImage) -> Image:
        duration = self.costs.image_s(msg.scan)
        self._beam_on(duration)
        self.longest_frame_s = max(self.longest_frame_s, frame_s(msg.scan, self.costs))
        if msg.product is not None:
            width, height = msg.scan.resolution_px
            truth = TRUTH_PIXEL_BYTES if self.truth else 0
            self._product_bytes[msg.product] = width * height * (SE_PIXEL_BYTES + truth)
        scan = msg.scan
        return _unmade(
            _DryImage,
            pixel_size_nm=scan.pixel_size_nm,
            dwell_us=scan.dwell_us,
            frames=scan.frames,
            current_na=0.0,
            duration_s=duration,
        )

    def _raster(self, msg: m.AcquireRaster) -> Raster:
        request = msg.request
        duration = self.costs.raster_s(request)
        self._beam_on(duration)
        self.longest_frame_s = max(self.longest_frame_s, frame_s(request, self.costs))
        if msg.product is not None:
            width, height = request.scan.resolution_px
            maps = width * height * len(request.peaks) * SIMS_PIXEL_BYTES
            spectrum = self.costs.spectrum_samples(request) * SPECTRUM_SAMPLE_BYTES
            truth = width * height * TRUTH_PIXEL_BYTES if self.truth else 0
            self._product_bytes[msg.product] = maps + spectrum + height + truth
        return _unmade(
            _DryRaster,
            n_peaks=len(request.peaks),
            peaks=(),
            pixel_size_nm=request.scan.pixel_size_nm,
            dwell_us=request.scan.dwell_us,
            frames=request.scan.frames,
            current_na=0.0,
            duration_s=duration,
        )


def dry_run_step(plan: Plan, planned: PlannedStep, index: int, dry: DryRun) -> None:
    """Drive one step's plan function against ``dry``."""
    ctx = SliceContext(
        index=index,
        recipe=plan.recipe,
        run=RunContext(),
        nominal_front_um=plan.face_z_um(index),
        position=planned.position,
        product=planned.product,
        costs=dry.costs,
        dry_run=True,
    )
    drive(plan_for(planned.kind)(planned.step, ctx), dry)


@dataclass(frozen=True)
class Estimate:
    """A plan's cost from ``first_slice`` to its end."""

    slices: int
    total_s: float
    by_kind_s: dict[str, float]
    data_bytes: int
    lower_bound: bool
    """True when the instrument declared no cost model: the figures are floors."""
    longest_frame_s: dict[str, float] = field(default_factory=dict)
    """The longest single frame each step kind scans (a pause waits for it)."""
    ion_dose_nc: float = 0.0
    """Ion charge the beam delivers to the sample (mills, scans, autofocus), in nC."""

    @property
    def total_h(self) -> float:
        return self.total_s / 3600.0

    @property
    def per_slice_s(self) -> float:
        return self.total_s / self.slices if self.slices else 0.0

    def describe(self) -> str:
        floor = "at least " if self.lower_bound else ""
        return (
            f"{floor}{self.total_h:.3g} h for {self.slices} slices "
            f"({self.per_slice_s:.4g} s per slice), {self.data_bytes / 2**30:.3g} GiB of data"
        )


def combined(estimates: list[Estimate]) -> Estimate:
    """Several plans run one after another (the sites of a recipe) as one estimate."""
    if len(estimates) == 1:
        return estimates[0]
    by_kind: dict[str, float] = defaultdict(float)
    frames: dict[str, float] = defaultdict(float)
    for estimate in estimates:
        for kind, seconds in estimate.by_kind_s.items():
            by_kind[kind] += seconds
        for kind, seconds in estimate.longest_frame_s.items():
            frames[kind] = max(frames[kind], seconds)
    return Estimate(
        slices=sum(e.slices for e in estimates),
        total_s=sum(e.total_s for e in estimates),
        by_kind_s=dict(sorted(by_kind.items())),
        data_bytes=sum(e.data_bytes for e in estimates),
        lower_bound=any(e.lower_bound for e in estimates),
        longest_frame_s=dict(frames),
        ion_dose_nc=sum(e.ion_dose_nc for e in estimates),
    )


def estimate_plan(
    plan: Plan,
    costs: CostModel | None,
    first_slice: int = 0,
    truth: bool = False,
    stage: StagePosition | None = None,
) -> Estimate:
    """Instrument time and data of slices ``first_slice`` .. end of ``plan``, the stage
    starting at ``stage`` (where the run will put it: preflight asks before it moves)."""
    start = stage or StagePosition()
    model = costs if costs is not None else LowerBoundCosts()
    slices = max(0, plan.slices_planned - first_slice)
    if slices == 0:
        return Estimate(0, 0.0, {}, 0, costs is None)
    by_kind: dict[str, float] = defaultdict(float)
    frames: dict[str, float] = defaultdict(float)
    data = 0
    dose_nc = 0.0
    dry = DryRun(model, truth, stage=start)
    steps = plan.slice(first_slice).steps
    regular = [s for s in steps if s.position != SETUP and s.schedule is None]
    for slice_pass in range(2):  # the second pass starts from the current the first left
        for planned in regular:
            before_s, before_bytes, changes = dry.seconds, dry.data_bytes, dry.current_changes
            before_nc = dry.dose_nc
            dry.longest_frame_s = 0.0
            dry_run_step(plan, planned, first_slice, dry)
            if slice_pass:
                switch_s = (dry.current_changes - changes) * model.current_change_s()
                by_kind[planned.kind] += (dry.seconds - before_s - switch_s) * slices
                by_kind[CURRENT_CHANGE] += switch_s * slices
                data += (dry.data_bytes - before_bytes) * slices
                dose_nc += (dry.dose_nc - before_nc) * slices
                frames[planned.kind] = max(frames[planned.kind], dry.longest_frame_s)
    once = [(s, 1) for s in steps if s.position == SETUP and first_slice == 0]
    tasks = [
        (plan.scheduled_step(kind), plan.scheduled_runs(kind, first_slice))
        for kind in plan.scheduled_tasks
    ]
    for planned, runs in once + tasks:
        if runs:
            # a task runs at its step's current (the change is the step's, counted already);
            # the set-up's change replaces the run's first one
            task = DryRun(
                model, truth, current_na=getattr(planned.step, "current_na", None), stage=start
            )
            dry_run_step(plan, planned, first_slice, task)
            by_kind[planned.kind] += task.seconds * runs
            dose_nc += task.dose_nc * runs
            frames[planned.kind] = max(frames[planned.kind], task.longest_frame_s)
    for planned, runs in plan.scheduled_steps(first_slice):
        if runs:  # from the current of the step it follows: its own change counts
            step = DryRun(model, truth, current_na=plan.current_before(planned), stage=start)
            dry_run_step(plan, planned, first_slice, step)
            switch_s = step.current_changes * model.current_change_s()
            by_kind[planned.kind] += (step.seconds - switch_s) * runs
            by_kind[CURRENT_CHANGE] += switch_s * runs
            data += step.data_bytes * runs
            dose_nc += step.dose_nc * runs
            frames[planned.kind] = max(frames[planned.kind], step.longest_frame_s)
    by_kind[CURRENT_CHANGE] += model.current_change_s()  # the first rung of the run
    return Estimate(
        slices=slices,
        total_s=sum(by_kind.values()),
        by_kind_s={k: v for k, v in sorted(by_kind.items()) if v},
        data_bytes=data,
        lower_bound=costs is None,
        longest_frame_s={k: v for k, v in frames.items() if v},
        ion_dose_nc=dose_nc,
    )
