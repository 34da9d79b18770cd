"""Compile a recipe (what) into a plan (how): per-slice actions with every number resolved.

Slice ``i`` (0-based) mills the face from ``z = i * t`` to ``z = (i + 1) * t`` and then images
the face it exposed, so its data belong to depth ``(i + 1) * t``. Scheduled tasks (autofocus)
run just before the slice's first imaging step, at that step's current, so they cost no extra
current change and focus the very field that is about to be imaged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from fibsims.engine.actions import (
    Action,
    Autofocus,
    Mill,
    RockingPolish,
    SEImage,
    SimsRaster,
    SlicePlan,
)
from fibsims.instrument.types import (
    MillPattern,
    PatternKind,
    Polarity,
    RasterRequest,
    ScanRequest,
)
from fibsims.recipe import (
    MillStep,
    Recipe,
    RockingPolishStep,
    SEImageStep,
    SimsRasterStep,
)

IMAGING_KINDS = ("se_image", "sims_raster")


@dataclass(frozen=True)
class Plan:
    """A compiled recipe. Slices are built on demand: a 100,000-slice plan costs nothing."""

    recipe: Recipe

    @property
    def slices_planned(self) -> int:
        return self.recipe.volume.slices

    @property
    def thickness_um(self) -> float:
        return self.recipe.volume.slice_thickness_nm / 1000.0

    def face_z_um(self, index: int) -> float:
        """Where the face stands after slice ``index`` is milled (nm product first, so
        z stays exact for the usual integer-nm thicknesses)."""
        return (index + 1) * self.recipe.volume.slice_thickness_nm / 1000.0

    def slice(self, index: int) -> SlicePlan:
        if not 0 <= index < self.slices_planned:
            raise IndexError(f"slice {index} is outside the plan (0..{self.slices_planned - 1})")
        actions: list[Action] = []
        products = _product_names(self.recipe)
        scheduled_done = False
        for position, step in enumerate(self.recipe.slice):
            if step.kind in IMAGING_KINDS and not scheduled_done:
                actions.extend(self._scheduled(index, step.current_na))
                scheduled_done = True
            actions.append(_BUILDERS[step.kind](self, step, index, products[position]))
        return SlicePlan(index=index, face_z_um=self.face_z_um(index), actions=tuple(actions))

    def _scheduled(self, index: int, current_na: float) -> list[Action]:
        return [
            Autofocus(current_na=current_na, product=None)
            for schedule in self.recipe.every
            if schedule.do == "autofocus" and schedule.applies_to(index)
        ]

    @property
    def mill_step(self) -> MillStep:
        return next(s for s in self.recipe.slice if isinstance(s, MillStep))


def _product_names(recipe: Recipe) -> list[str]:
    """``se_image``, or ``se_image_2`` for the second image step of the same kind in a slice."""
    seen: Counter[str] = Counter()
    names = []
    for step in recipe.slice:
        seen[step.kind] += 1
        names.append(step.kind if seen[step.kind] == 1 else f"{step.kind}_{seen[step.kind]}")
    return names


def _mill(plan: Plan, step: MillStep, index: int, product: str) -> Action:
    volume = plan.recipe.volume
    pattern = MillPattern(
        kind=PatternKind(step.pattern),
        width_um=step.width_um or volume.face_width_um,
        height_um=step.pattern_height_um,
        depth_um=step.depth_um,
        front_z_um=plan.face_z_um(index),
    )
    return Mill(current_na=step.current_na, product=None, pattern=pattern)


def _polish(plan: Plan, step: RockingPolishStep, index: int, product: str) -> Action:
    mill = plan.mill_step
    pattern = MillPattern(
        kind=PatternKind.CLEANING_CROSS_SECTION,
        width_um=mill.width_um or plan.recipe.volume.face_width_um,
        height_um=step.pattern_height_um,
        depth_um=step.depth_um or mill.depth_um,
        front_z_um=plan.face_z_um(index),
    )
    return RockingPolish(
        current_na=step.current_na,
        product=None,
        pattern=pattern,
        angles_deg=tuple(step.angles_deg),
        passes=step.passes,
    )


def _scan(plan: Plan, step: SEImageStep | SimsRasterStep) -> ScanRequest:
    return ScanRequest(
        resolution_px=(int(step.resolution[0]), int(step.resolution[1])),
        dwell_us=step.dwell_us,
        frames=step.frames,
        field_width_um=step.field_width_um or plan.recipe.volume.face_width_um,
    )


def _se_image(plan: Plan, step: SEImageStep, index: int, product: str) -> Action:
    return SEImage(current_na=step.current_na, product=product, scan=_scan(plan, step))


def _sims_raster(plan: Plan, step: SimsRasterStep, index: int, product: str) -> Action:
    request = RasterRequest(
        scan=_scan(plan, step), polarity=Polarity(step.polarity), peaks=tuple(step.peaks)
    )
    return SimsRaster(current_na=step.current_na, product=product, request=request)


_BUILDERS: dict[str, Callable[..., Action]] = {
    "mill": _mill,
    "rocking_polish": _polish,
    "se_image": _se_image,
    "sims_raster": _sims_raster,
}


def compile_plan(recipe: Recipe) -> Plan:
    """Compile ``recipe``; every step kind the recipe language knows must have a builder."""
    missing = {step.kind for step in recipe.slice} - set(_BUILDERS)
    if missing:
        raise ValueError(f"no plan builder for step kind(s): {', '.join(sorted(missing))}")
    return Plan(recipe=recipe)
