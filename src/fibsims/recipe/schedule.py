"""``every:`` schedules: a task or a step run on every Nth slice only.

What a schedule runs (``do:``) is either

- a **task** by name, ``do: autofocus`` or ``do: auto_contrast``: it runs just before the
  slice's first imaging step, at that step's current, tuning the field about to be imaged; or
- a **step**, written as in ``slice:``, ``do: {sims_raster: {current_pa: 300, ...}}``: it runs
  after the slice's own steps (or just before the slice step named by ``before:``), and makes a
  product only on the slices it runs on ("SIMS every 4th slice").

The two forms cannot be confused: a task is a word, a step a one-key mapping. A mill cannot be
scheduled: every slice runs exactly one mill, the one in ``slice:``. Which slices: ``offset``,
``offset + slices``, ``offset + 2 slices``... (0-based), the same on a resumed run, since it
depends on the slice index alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import Discriminator, Field, Tag, WrapSerializer

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import MAX_SLICES
from fibsims.recipe.naming import MAX_STEP_NAME_CHARS, STEP_NAME_PATTERN
from fibsims.recipe.steps import (
    RockingPolishStep,
    SEImageStep,
    SimsRasterStep,
    StepBase,
    step_choice,
    step_kind_of,
    wrap_step,
)

ScheduledTask = Literal["autofocus", "auto_contrast"]
"""Tasks a schedule can run before a slice's first image; each has a plan function of its kind."""

TASKS: tuple[str, ...] = get_args(ScheduledTask)

SCHEDULABLE_STEPS: dict[str, type[StepBase]] = {
    step.kind: step for step in (RockingPolishStep, SEImageStep, SimsRasterStep)
}
"""The step kinds a schedule may run: all but the mill (a slice runs exactly one)."""

SCHEDULED_WORK_ERROR = "scheduled_work"
"""Error type of a ``do:`` that is neither a task nor one schedulable step."""


def _work_kind(value: Any) -> str | None:
    """The tag of a ``do:`` value: the task's name, or the step's kind; None if neither."""
    if isinstance(value, str):
        return value if value in TASKS else None
    return step_kind_of(value, SCHEDULABLE_STEPS)


def _task(name: str) -> Any:
    return Annotated[Literal[name], Tag(name)]  # type: ignore[valid-type]


if TYPE_CHECKING:
    ScheduledWork = ScheduledTask | RockingPolishStep | SEImageStep | SimsRasterStep
else:
    ScheduledWork = Annotated[
        _task("autofocus")
        | _task("auto_contrast")
        | step_choice(RockingPolishStep)
        | step_choice(SEImageStep)
        | step_choice(SimsRasterStep),
        Discriminator(
            _work_kind,
            custom_error_type=SCHEDULED_WORK_ERROR,
            custom_error_message=("must be a task ({tasks}) or one step as in slice: ({steps})"),
            custom_error_context={
                "tasks": ", ".join(TASKS),
                "steps": ", ".join(SCHEDULABLE_STEPS),
            },
        ),
        WrapSerializer(wrap_step),
    ]
"""What a schedule runs: a task's name, or a step model (written ``{kind: settings}``)."""


class Schedule(RecipeModel):
    """A task or a step run on every Nth slice only: a task just before the slice's first
    image, a step after the slice's own steps (or just before the one ``before:`` names)."""

    slices: int = Field(
        ge=1, le=MAX_SLICES, description=f"run every this many slices, 1 to {MAX_SLICES}"
    )
    do: ScheduledWork = Field(
        description=(
            "what to run: a task, autofocus or auto_contrast (before the slice's first image), "
            "or one step written as in slice:, e.g. {sims_raster: {...}} (after the slice's "
            "steps, or before the one named by before:); a mill cannot be scheduled"
        )
    )
    offset: int = Field(
        default=0,
        ge=0,
        le=MAX_SLICES,
        description=f"index of the first slice it runs on, 0 to {MAX_SLICES}",
    )
    before: str | None = Field(
        default=None,
        pattern=STEP_NAME_PATTERN,
        max_length=MAX_STEP_NAME_CHARS,
        description=(
            "for a scheduled step: the name of the slice step it runs just before (its name:, "
            "or its kind for the first step of a kind); leave out to run after the slice's steps"
        ),
    )

    @property
    def step(self) -> StepBase | None:
        """The scheduled step, or None when the schedule runs a task."""
        return self.do if isinstance(self.do, StepBase) else None

    @property
    def kind(self) -> str:
        """The task's name or the step's kind: the plan function that runs it."""
        return self.do.kind if isinstance(self.do, StepBase) else str(self.do)

    def applies_to(self, slice_index: int) -> bool:
        """Whether it runs at ``slice_index`` (0-based): offset, offset + N, ..."""
        return slice_index >= self.offset and (slice_index - self.offset) % self.slices == 0

    def runs(self, first_slice: int, slices: int) -> int:
        """How many times it runs in slices ``first_slice`` .. ``slices - 1``."""
        start = max(self.offset, first_slice)
        start += (self.offset - start) % self.slices  # the first applying index >= start
        return -(-(slices - start) // self.slices) if start < slices else 0
