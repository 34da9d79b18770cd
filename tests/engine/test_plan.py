"""Compiling a recipe says which steps each slice runs; each step's plan function says, in
messages, what it does (driven here with a recorder instead of an instrument)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fibsims.engine import messages as m
from fibsims.engine.context import RunContext, SliceContext
from fibsims.engine.costs import LowerBoundCosts
from fibsims.engine.driver import drive
from fibsims.engine.estimate import DryRun
from fibsims.engine.plan import SETUP, compile_plan
from fibsims.engine.steps import plan_for
from fibsims.recipe import Fiducial


def _messages(plan, index: int, kind: str, front_offset_um: float = 0.0) -> list[m.Msg]:
    """Every message the first ``kind`` step of slice ``index`` yields."""
    planned = next(s for s in plan.slice(index).steps if s.kind == kind)
    ctx = SliceContext(
        index,
        plan.recipe,
        RunContext(front_offset_um=front_offset_um),
        plan.face_z_um(index),
        planned.position,
        planned.product,
        costs=LowerBoundCosts(),
    )
    seen: list[m.Msg] = []
    answer = DryRun(LowerBoundCosts())

    def record(msg: m.Msg) -> Any:
        seen.append(msg)
        return answer(msg)

    drive(plan_for(kind)(planned.step, ctx), record)
    return seen


def test_each_slice_cuts_one_thickness_further_and_the_loop_can_move_the_cut(recipe):
    plan = compile_plan(recipe)
    fronts = [
        next(msg for msg in _messages(plan, i, "mill") if isinstance(msg, m.Mill)).pattern
        for i in range(4)
    ]
    assert [p.front_z_um for p in fronts] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    moved = next(x for x in _messages(plan, 1, "mill", -0.004) if isinstance(x, m.Mill))
    assert moved.pattern.front_z_um == pytest.approx(0.046), "the thickness loop's offset"


def test_the_beam_is_on_only_around_the_mill(recipe):
    kinds = [type(msg).__name__ for msg in _messages(compile_plan(recipe), 0, "mill")]
    assert kinds == ["SelectCurrent", "Unblank", "Mill", "Blank"]


def test_autofocus_runs_on_schedule_just_before_the_first_imaging_step(recipe):
    plan = compile_plan(recipe)
    kinds = {i: [s.kind for s in plan.slice(i).steps] for i in range(4)}
    with_focus = ["mill", "rocking_polish", "autofocus", "se_image", "sims_raster"]
    without = ["mill", "rocking_polish", "se_image", "sims_raster"]
    assert kinds == {0: with_focus, 1: without, 2: with_focus, 3: without}
    steps = plan.slice(0).steps
    assert steps[2].step.current_na == pytest.approx(steps[3].step.current_na)


def test_a_fiducial_is_milled_once_before_the_first_slice(recipe):
    with_marks = recipe.model_copy(update={"fiducial": Fiducial()})
    plan = compile_plan(with_marks)
    assert plan.slice(0).steps[0].kind == "fiducial" and plan.slice(0).steps[0].position == SETUP
    assert all(s.kind != "fiducial" for i in (1, 2, 3) for s in plan.slice(i).steps)
    mills = [x.pattern for x in _messages(plan, 0, "fiducial") if isinstance(x, m.Mill)]
    assert [p.rotation_deg for p in mills] == [-30.0, 30.0], "parting as the face advances"
    assert [p.center_x_um for p in mills] == [-6.0, 6.0]
    for p in mills:  # the turned line reaches from just behind the face past the volume
        theta = math.radians(p.rotation_deg)
        half_z = p.height_um / 2 * math.cos(theta) + p.width_um / 2 * abs(math.sin(theta))
        middle = p.front_z_um - p.height_um / 2
        assert -0.3 < middle - half_z < 0 and middle + half_z >= plan.recipe.volume.depth_um


def test_the_polish_rocks_between_angles_with_checkpoints_and_comes_home(recipe):
    seen = _messages(compile_plan(recipe), 0, "rocking_polish")
    mills = [x for x in seen if isinstance(x, m.Mill)]
    assert mills[0].pattern.depth_um == 18 and mills[0].pattern.width_um == 20
    moves = [x.target.rotation_deg for x in seen if isinstance(x, m.MoveStage)]
    assert moves == [-20.0, 20.0, 0.0]
    assert sum(isinstance(x, m.Checkpoint) for x in seen) == 1, "between the two angles"


def test_scans_take_the_face_width_as_field_and_name_their_product(recipe):
    plan = compile_plan(recipe)
    image = next(x for x in _messages(plan, 1, "se_image") if isinstance(x, m.AcquireImage))
    raster = next(x for x in _messages(plan, 1, "sims_raster") if isinstance(x, m.AcquireRaster))
    assert image.scan.field_width_um == 20 and image.scan.resolution_px == (32, 16)
    assert image.product == "se_image" and raster.product == "sims_raster"
    assert raster.request.peaks == ("7Li+",)
    kept = [x.name for x in _messages(plan, 1, "sims_raster") if isinstance(x, m.Keep)]
    assert kept == ["sims_raster"]


def test_a_slice_outside_the_plan_is_refused(recipe):
    with pytest.raises(IndexError, match="outside the plan"):
        compile_plan(recipe).slice(4)
