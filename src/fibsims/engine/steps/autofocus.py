"""``autofocus`` (scheduled): the column's focus routine on the field about to be imaged.

It logs the defocus before and after (in the step's metadata); a failure is the error
policy's to judge (autofocus is optional by default: skipped and flagged).
"""

from __future__ import annotations

from fibsims.engine import messages as m
from fibsims.engine.context import SliceContext
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.engine.steps.tasks import ScheduledStep


@step_kind("autofocus")
def autofocus(task: ScheduledStep, ctx: SliceContext) -> PlanFn:
    current = yield from beam_on(task.current_na)
    try:
        focus = yield m.Autofocus()
    finally:
        yield m.Blank()
    return StepOutput(
        current,
        {"defocus_before_um": focus.defocus_before_um, "defocus_after_um": focus.defocus_after_um},
    )
