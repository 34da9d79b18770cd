"""What a plan will take before anything moves: instrument time per step kind, and data volume.

Why here: preflight refuses a run that cannot finish within ``limits.max_hours`` or whose data
cannot fit on the disk, so the estimate must come from the same actions the engine will run,
timed by the backend's own :class:`~fibsims.instrument.interfaces.CostModel`. A backend without
one gets :class:`LowerBoundCosts`, which knows only what every scan must take (pixels x dwell x
frames), so the estimate is then a floor and says so.

Slices differ only in where the pattern front lies (which costs nothing extra) and in the
scheduled tasks, so one slice is costed and the schedules are counted, not every slice built:
a 100,000-slice plan is estimated in microseconds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace

from fibsims.engine.actions import (
    Action,
    Autofocus,
    Mill,
    RockingPolish,
    SEImage,
    SimsRaster,
)
from fibsims.engine.plan import Plan
from fibsims.instrument.interfaces import CostModel
from fibsims.instrument.types import MillPattern, RasterRequest, ScanRequest, StagePosition

SECOND_PER_US = 1e-6
SE_PIXEL_BYTES = 2  # uint16 counts
SIMS_PIXEL_BYTES = 4  # uint32 counts per peak
SPECTRUM_SAMPLE_BYTES = 8 + 4  # float64 counts and float32 mass axis, per sample
TRUTH_PIXEL_BYTES = 1 + 4  # at least the uint8 labels and float32 Li fraction per product
CURRENT_CHANGE = "current_change"


class LowerBoundCosts(CostModel):
    """What any instrument must take at least: a scan dwells on every pixel of every frame."""

    def mill_s(self, pattern: MillPattern, current_na: float) -> float:
        return 0.0

    def image_s(self, request: ScanRequest) -> float:
        return scan_floor_s(request)

    def raster_s(self, request: RasterRequest) -> float:
        return scan_floor_s(request.scan)

    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        return 0.0

    def current_change_s(self) -> float:
        return 0.0

    def autofocus_s(self) -> float:
        return 0.0

    def spectrum_samples(self, request: RasterRequest) -> int:
        return 0


def scan_floor_s(request: ScanRequest) -> float:
    width, height = request.resolution_px
    return width * height * request.dwell_us * SECOND_PER_US * request.frames


def frame_s(action: SEImage | SimsRaster, costs: CostModel) -> float:
    """Time of one frame of an acquisition: the unit a long acquisition is split into."""
    if isinstance(action, SEImage):
        return costs.image_s(replace(action.scan, frames=1))
    request = action.request
    return costs.raster_s(replace(request, scan=replace(request.scan, frames=1)))


def polish_s(action: RockingPolish, costs: CostModel) -> float:
    """Every pass: rotate to each angle (beam blanked) and polish there; then rotate home."""
    home = StagePosition()
    total, at = 0.0, home
    for _ in range(action.passes):
        for angle in action.angles_deg:
            target = replace(home, rotation_deg=angle)
            total += costs.move_s(at, target) + costs.mill_s(action.pattern, action.current_na)
            at = target
    return total + costs.move_s(at, home)


def action_s(action: Action, costs: CostModel) -> float:
    """Instrument seconds ``action`` takes, current changes aside."""
    if isinstance(action, Mill):
        return costs.mill_s(action.pattern, action.current_na)
    if isinstance(action, RockingPolish):
        return polish_s(action, costs)
    if isinstance(action, SEImage):
        return costs.image_s(action.scan)
    if isinstance(action, SimsRaster):
        return costs.raster_s(action.request)
    if isinstance(action, Autofocus):
        return costs.autofocus_s()
    raise TypeError(f"no cost for action kind {action.kind!r}")


def action_bytes(action: Action, costs: CostModel, truth: bool) -> int:
    """Bytes of data ``action`` yields (the arrays; file overheads are small beside them)."""
    if isinstance(action, SEImage):
        width, height = action.scan.resolution_px
        return width * height * (SE_PIXEL_BYTES + (TRUTH_PIXEL_BYTES if truth else 0))
    if isinstance(action, SimsRaster):
        width, height = action.request.scan.resolution_px
        maps = width * height * len(action.request.peaks) * SIMS_PIXEL_BYTES
        spectrum = costs.spectrum_samples(action.request) * SPECTRUM_SAMPLE_BYTES
        return maps + spectrum + (width * height * TRUTH_PIXEL_BYTES if truth else 0)
    return 0


@dataclass(frozen=True)
class Estimate:
    """A plan's cost from ``first_slice`` to its end."""

    slices: int
    total_s: float
    by_kind_s: dict[str, float]
    data_bytes: int
    lower_bound: bool
    """True when the instrument declared no cost model: the figures are floors."""

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


def _runs_of(plan: Plan, first_slice: int) -> int:
    """How many scheduled tasks run in slices ``first_slice`` .. end."""
    runs = 0
    for schedule in plan.recipe.every:
        start = max(schedule.offset, first_slice)
        start += (schedule.offset - start) % schedule.slices  # first applying index >= start
        if start < plan.slices_planned:
            runs += math.ceil((plan.slices_planned - start) / schedule.slices)
    return runs


def estimate_plan(
    plan: Plan, costs: CostModel | None, first_slice: int = 0, truth: bool = False
) -> Estimate:
    """Instrument time and data of slices ``first_slice`` .. end of ``plan``."""
    model = costs if costs is not None else LowerBoundCosts()
    slices = max(0, plan.slices_planned - first_slice)
    by_kind: dict[str, float] = defaultdict(float)
    if slices == 0:
        return Estimate(0, 0.0, {}, 0, costs is None)
    actions = [a for a in plan.slice(first_slice).actions if not isinstance(a, Autofocus)]
    data = 0
    for action in actions:
        by_kind[action.kind] += action_s(action, model) * slices
        data += action_bytes(action, model, truth) * slices
    focus_runs = _runs_of(plan, first_slice)
    if focus_runs:
        by_kind[Autofocus.kind] += model.autofocus_s() * focus_runs
    currents = [a.current_na for a in actions]
    changes = sum(a != b for a, b in zip(currents, currents[1:] + currents[:1], strict=True))
    by_kind[CURRENT_CHANGE] += model.current_change_s() * (changes * slices + 1)
    return Estimate(
        slices=slices,
        total_s=sum(by_kind.values()),
        by_kind_s={k: v for k, v in sorted(by_kind.items()) if v},
        data_bytes=data,
        lower_bound=costs is None,
    )
