"""``rocking_polish``: polish the fresh face at each rocking angle to remove curtains.

Between angles (and passes) the beam is blanked and the run may stop (a checkpoint), so a
long polish never delays a pause; however it stops, the stage goes back home first, because
the next slice's polish rocks about it.
"""

from __future__ import annotations

from dataclasses import replace

from fibsims.engine import messages as m
from fibsims.engine.context import SliceContext
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.types import MillPattern, PatternKind
from fibsims.recipe import RockingPolishStep


def polish_pattern(step: RockingPolishStep, ctx: SliceContext) -> MillPattern:
    mill = ctx.recipe.mill_step
    return MillPattern(
        kind=PatternKind.CLEANING_CROSS_SECTION,
        width_um=mill.width_um or ctx.recipe.volume.face_width_um,
        height_um=step.pattern_height_um,
        depth_um=step.depth_um or mill.depth_um,
        front_z_um=ctx.front_um,
    )


@step_kind("rocking_polish")
def rocking_polish(step: RockingPolishStep, ctx: SliceContext) -> PlanFn:
    current = yield m.SelectCurrent(step.current_na)
    home = yield m.ReadStage()
    pattern = polish_pattern(step, ctx)
    dose_nc, reached = 0.0, []
    angles = list(step.angles_deg)
    try:
        for number in range(step.passes * len(angles)):
            yield m.Blank()
            if number:
                yield m.Checkpoint()
            angle = angles[number % len(angles)]
            at = yield m.MoveStage(replace(home, rotation_deg=home.rotation_deg + angle))
            reached.append(at.rotation_deg - home.rotation_deg)
            yield m.Unblank()
            dose_nc += (yield m.Mill(pattern)).dose_nc
    except Exception:
        try:  # a failure going home must not hide the one that stopped the polish
            yield m.Blank()
            yield m.MoveStage(home)
        except InstrumentError:
            pass
        raise
    yield m.Blank()
    yield m.MoveStage(home)
    return StepOutput(current, {"dose_nc": dose_nc, "rocking_angles_reached_deg": reached})
