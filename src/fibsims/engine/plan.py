"""Compile a recipe (what) into a plan (which steps each slice runs, in order).

Slice ``i`` (0-based) cuts the face from ``z = i * t`` to ``z = (i + 1) * t`` (its nominal
front; the thickness loop corrects where the cut is aimed) and then images the face it
exposed. Slice 0 first runs the set-up steps (the fiducial, if the recipe has one). Scheduled
tasks (autofocus, auto contrast) run just before the slice's first imaging step, at that
step's current, so they cost no extra current change and tune the very field about to be
imaged. Each step is run by its kind's plan function (:mod:`fibsims.engine.steps`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fibsims.engine.steps import PLANS, load_builtin_steps
from fibsims.engine.steps.imaging import scan_request
from fibsims.engine.steps.tasks import ScheduledStep
from fibsims.recipe import MillStep, Recipe, SEImageStep

IMAGING_KINDS = ("se_image", "sims_raster")
SETUP = -1
"""The position of a set-up step (it is not one of the recipe's slice steps)."""


@dataclass(frozen=True)
class PlannedStep:
    kind: str
    step: Any
    """The recipe's step model (or a :class:`ScheduledStep`), handed to the plan function."""
    position: int
    """Index in the recipe's ``slice:`` list; :data:`SETUP` for set-up, and scheduled tasks
    take the position of the step they precede."""
    product: str | None = None


@dataclass(frozen=True)
class SlicePlan:
    index: int
    nominal_front_um: float
    steps: tuple[PlannedStep, ...]


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
        """Where the face stands after slice ``index`` is cut, nominally (nm product first,
        so z stays exact for the usual integer-nm thicknesses)."""
        return (index + 1) * self.recipe.volume.slice_thickness_nm / 1000.0

    def slice(self, index: int) -> SlicePlan:
        if not 0 <= index < self.slices_planned:
            raise IndexError(f"slice {index} is outside the plan (0..{self.slices_planned - 1})")
        steps: list[PlannedStep] = []
        if index == 0 and self.recipe.fiducial is not None:
            steps.append(PlannedStep("fiducial", self.recipe.fiducial, SETUP))
        names = _product_names(self.recipe)
        scheduled = False
        for position, step in enumerate(self.recipe.slice):
            if step.kind in IMAGING_KINDS and not scheduled:
                steps.extend(self._scheduled(index, position, step.current_na))
                scheduled = True
            product = names[position] if step.kind in IMAGING_KINDS else None
            steps.append(PlannedStep(step.kind, step, position, product))
        return SlicePlan(index, self.face_z_um(index), tuple(steps))

    def scheduled_runs(self, kind: str, first_slice: int = 0) -> int:
        """How many times the task ``kind`` runs in slices ``first_slice`` .. end."""
        runs = 0
        for schedule in self.recipe.every:
            if schedule.do != kind:
                continue
            start = max(schedule.offset, first_slice)
            start += (schedule.offset - start) % schedule.slices  # first applying index >= start
            if start < self.slices_planned:
                runs += -(-(self.slices_planned - start) // schedule.slices)
        return runs

    def _scheduled(self, index: int, position: int, current_na: float) -> list[PlannedStep]:
        return [
            self.scheduled_step(schedule.do, position, current_na)
            for schedule in self.recipe.every
            if schedule.applies_to(index)
        ]

    def scheduled_step(
        self, kind: str, position: int | None = None, current_na: float | None = None
    ) -> PlannedStep:
        """The task ``kind`` as a step, before the recipe's first imaging step (whose
        current it takes, and whose scan auto contrast tunes for)."""
        first = next((i for i, s in enumerate(self.recipe.slice) if s.kind in IMAGING_KINDS), 0)
        se = next((s for s in self.recipe.slice if isinstance(s, SEImageStep)), None)
        scan = scan_request(se, self.recipe.volume.face_width_um) if se is not None else None
        current = current_na if current_na is not None else self.recipe.slice[first].current_na
        return PlannedStep(
            kind,
            ScheduledStep(kind, current, scan),
            first if position is None else position,
        )

    @property
    def mill_step(self) -> MillStep:
        return self.recipe.mill_step


def product_steps(recipe: Recipe) -> dict[str, Any]:
    """Each data product's name and the recipe step that makes it (the SE images and SIMS
    rasters of a slice)."""
    names = _product_names(recipe)
    return {names[i]: step for i, step in enumerate(recipe.slice) if step.kind in IMAGING_KINDS}


def _product_names(recipe: Recipe) -> list[str]:
    """``se_image``, or ``se_image_2`` for the second image step of the same kind in a slice."""
    seen: Counter[str] = Counter()
    names = []
    for step in recipe.slice:
        seen[step.kind] += 1
        names.append(step.kind if seen[step.kind] == 1 else f"{step.kind}_{seen[step.kind]}")
    return names


def compile_plan(recipe: Recipe) -> Plan:
    """Compile ``recipe``; every step kind it uses must have a plan function."""
    load_builtin_steps()
    kinds = {step.kind for step in recipe.slice} | {s.do for s in recipe.every}
    missing = kinds - set(PLANS)
    if missing:
        raise ValueError(f"no plan function for step kind(s): {', '.join(sorted(missing))}")
    return Plan(recipe=recipe)
