"""Compile a recipe (what) into a plan (which steps each slice runs, in order).

Slice ``i`` (0-based) cuts the face from ``z = i * t`` to ``z = (i + 1) * t`` (its nominal
front; the thickness loop corrects where the cut is aimed) and then images the face it
exposed. Slice 0 first runs the set-up steps (the fiducial, if the recipe has one). A step
scheduled by ``every:`` runs on the slices its schedule applies to, after the slice's own
steps (or just before the one its ``before:`` names), in the order of ``every:``. Scheduled
tasks (autofocus, auto contrast) run just before the slice's first imaging step (scheduled or
not), at that step's current, so they cost no extra current change and tune the very field
about to be imaged. Each step is run by its kind's plan function (:mod:`fibsims.engine.steps`).

The plan of a slice depends on the recipe and the slice index alone, so a resumed run, which
redoes its first uncommitted slice whole, runs the very schedule an uninterrupted run would.
An imaging step's product is named by the step (:mod:`fibsims.recipe.naming`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fibsims.engine.steps import PLANS, load_builtin_steps
from fibsims.engine.steps.imaging import scan_request
from fibsims.engine.steps.tasks import ScheduledStep
from fibsims.recipe import MillStep, Recipe, SEImageStep
from fibsims.recipe.naming import step_names

IMAGING_KINDS = ("se_image", "sims_raster")
SETUP = -1
"""The position of a set-up step (it is not one of the recipe's slice steps)."""


@dataclass(frozen=True)
class PlannedStep:
    kind: str
    step: Any
    """The recipe's step model (or a :class:`ScheduledStep`), handed to the plan function."""
    position: int
    """Index in the recipe's ``slice:`` list; :data:`SETUP` for set-up, scheduled tasks take
    the position of the step they precede, and the step of schedule ``j`` is
    ``len(slice) + j`` (so every step of a slice has its own position)."""
    product: str | None = None
    schedule: int | None = None
    """Index in the recipe's ``every:`` list of the schedule that put it here, if one did."""


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
        names = self.step_names
        due = [
            j for j, s in enumerate(self.recipe.every) if s.step is not None and s.applies_to(index)
        ]
        sequence: list[PlannedStep] = []
        for position, step in enumerate(self.recipe.slice):
            sequence += [self.scheduled(j) for j in due if self._before(j) == names[position]]
            product = names[position] if step.kind in IMAGING_KINDS else None
            sequence.append(PlannedStep(step.kind, step, position, product))
        sequence += [self.scheduled(j) for j in due if self.recipe.every[j].before is None]
        first = next((i for i, s in enumerate(sequence) if s.kind in IMAGING_KINDS), None)
        if first is not None:
            imaging = sequence[first]
            tasks = self._tasks(index, imaging.position, imaging.step.current_na)
            sequence[first:first] = tasks
        steps += sequence
        return SlicePlan(index, self.face_z_um(index), tuple(steps))

    @property
    def step_names(self) -> list[str]:
        """The name of each step of ``slice:``, then of each step ``every:`` schedules."""
        return step_names(
            [(s.kind, s.name) for s in self.recipe.slice]
            + [(s.step.kind, s.step.name) for s in self.recipe.every if s.step is not None]
        )

    def _before(self, j: int) -> str | None:
        return self.recipe.every[j].before

    def scheduled(self, j: int) -> PlannedStep:
        """The step schedule ``j`` runs (it must schedule a step, not a task)."""
        schedule = self.recipe.every[j]
        step = schedule.step
        if step is None:
            raise ValueError(f"every.{j} schedules the task {schedule.kind}, not a step")
        k = sum(1 for s in self.recipe.every[:j] if s.step is not None)
        name = self.step_names[len(self.recipe.slice) + k]
        product = name if step.kind in IMAGING_KINDS else None
        return PlannedStep(step.kind, step, len(self.recipe.slice) + j, product, j)

    def scheduled_steps(self, first_slice: int = 0) -> list[tuple[PlannedStep, int]]:
        """Each step ``every:`` schedules, with how often it runs in ``first_slice`` .. end."""
        return [
            (self.scheduled(j), s.runs(first_slice, self.slices_planned))
            for j, s in enumerate(self.recipe.every)
            if s.step is not None
        ]

    def current_before(self, planned: PlannedStep) -> float:
        """The current of the step a scheduled step follows in the slice (for its estimate)."""
        schedule = self.recipe.every[planned.schedule] if planned.schedule is not None else None
        if schedule is None or schedule.before is None:
            return self.recipe.slice[-1].current_na
        at = self.step_names.index(schedule.before)  # a slice step's (validated)
        return self.recipe.slice[at - 1].current_na  # at 0: the previous slice's last step

    def scheduled_runs(self, kind: str, first_slice: int = 0) -> int:
        """How many times the task ``kind`` runs in slices ``first_slice`` .. end."""
        return sum(
            schedule.runs(first_slice, self.slices_planned)
            for schedule in self.recipe.every
            if schedule.step is None and schedule.do == kind
        )

    @property
    def scheduled_tasks(self) -> set[str]:
        """The tasks (not steps) the recipe schedules."""
        return {s.kind for s in self.recipe.every if s.step is None}

    def _tasks(self, index: int, position: int, current_na: float) -> list[PlannedStep]:
        return [
            replace(self.scheduled_step(schedule.kind, position, current_na), schedule=j)
            for j, schedule in enumerate(self.recipe.every)
            if schedule.step is None and schedule.applies_to(index)
        ]

    def scheduled_step(
        self, kind: str, position: int | None = None, current_na: float | None = None
    ) -> PlannedStep:
        """The task ``kind`` as a step, before the recipe's first imaging step (whose
        current it takes, and whose scan auto contrast tunes for)."""
        first = next((i for i, s in enumerate(self.recipe.slice) if s.kind in IMAGING_KINDS), 0)
        se = next((s for s in self.recipe.slice if isinstance(s, SEImageStep)), None)
        if se is None:  # auto contrast tunes for a scheduled SE image, if that is the only one
            se = next((s.step for s in self.recipe.every if isinstance(s.step, SEImageStep)), None)
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


def located_steps(recipe: Recipe) -> list[tuple[str, Any]]:
    """Every step the recipe runs, with its dotted place in the recipe: the slice steps
    (``slice.2.se_image``), then the steps ``every:`` schedules (``every.0.do.sims_raster``).
    Preflight checks them all alike and names each by where the recipe wrote it."""
    found: list[tuple[str, Any]] = [
        (f"slice.{i}.{step.kind}", step) for i, step in enumerate(recipe.slice)
    ]
    found += [
        (f"every.{j}.do.{s.step.kind}", s.step)
        for j, s in enumerate(recipe.every)
        if s.step is not None
    ]
    return found


def product_steps(recipe: Recipe) -> dict[str, Any]:
    """Each data product's name and the recipe step that makes it (the SE images and SIMS
    rasters of the slice steps and of the steps ``every:`` schedules)."""
    plan = compile_plan(recipe)
    steps = [*recipe.slice, *(s.step for s in recipe.every if s.step is not None)]
    return {
        name: step
        for name, step in zip(plan.step_names, steps, strict=True)
        if step.kind in IMAGING_KINDS
    }


def compile_plan(recipe: Recipe) -> Plan:
    """Compile ``recipe``; every step kind it uses must have a plan function."""
    load_builtin_steps()
    kinds = {step.kind for step in recipe.slice} | {s.kind for s in recipe.every}
    missing = kinds - set(PLANS)
    if missing:
        raise ValueError(f"no plan function for step kind(s): {', '.join(sorted(missing))}")
    return Plan(recipe=recipe)
