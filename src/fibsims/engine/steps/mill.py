"""``mill``: cut the next slice with a cleaning cross-section (or box) at a milling current.

The pattern's front goes where the context says the face should be after this slice (the
nominal front plus the thickness loop's correction); the beam shift that follows the drift
keeps the pattern on the sample (drift-corrected milling).
"""

from __future__ import annotations

from fibsims.engine import messages as m
from fibsims.engine.context import SliceContext
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.engine.steps.fiducial import correct_drift
from fibsims.instrument.types import MillPattern, PatternKind
from fibsims.recipe import MillStep


def cut_pattern(step: MillStep, ctx: SliceContext) -> MillPattern:
    return MillPattern(
        kind=PatternKind(step.pattern),
        width_um=step.width_um or ctx.recipe.volume.face_width_um,
        height_um=step.pattern_height_um,
        depth_um=step.depth_um,
        front_z_um=ctx.front_um,
    )


@step_kind("mill")
def mill(step: MillStep, ctx: SliceContext) -> PlanFn:
    yield from correct_drift(ctx)
    current = yield from beam_on(step.current_na)
    try:
        result = yield m.Mill(cut_pattern(step, ctx))
    finally:
        yield m.Blank()
    return StepOutput(
        current,
        {"dose_nc": result.dose_nc, "face_z_um": result.face_z_um, "mill_s": result.duration_s},
    )
