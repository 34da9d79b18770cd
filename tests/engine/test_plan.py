"""Compiling a recipe resolves every number: pattern positions per slice, schedules, scans."""

from __future__ import annotations

import pytest

from fibsims.engine.actions import Autofocus, Mill, RockingPolish, SEImage, SimsRaster
from fibsims.engine.plan import compile_plan


def test_each_slice_mills_one_thickness_further(recipe):
    plan = compile_plan(recipe)
    fronts = [plan.slice(i).actions[0].pattern.front_z_um for i in range(4)]
    assert fronts == pytest.approx([0.025, 0.05, 0.075, 0.1])
    assert all(isinstance(plan.slice(i).actions[0], Mill) for i in range(4))


def test_autofocus_runs_on_schedule_just_before_the_first_imaging_step(recipe):
    plan = compile_plan(recipe)
    kinds = {i: [a.kind for a in plan.slice(i).actions] for i in range(4)}
    with_focus = ["mill", "rocking_polish", "autofocus", "se_image", "sims_raster"]
    without = ["mill", "rocking_polish", "se_image", "sims_raster"]
    assert kinds == {0: with_focus, 1: without, 2: with_focus, 3: without}
    focus = plan.slice(0).actions[2]
    assert isinstance(focus, Autofocus)
    assert focus.current_na == pytest.approx(plan.slice(0).actions[3].current_na)


def test_polish_defaults_to_the_mill_depth_and_face_width(recipe):
    polish = compile_plan(recipe).slice(0).actions[1]
    assert isinstance(polish, RockingPolish)
    assert polish.pattern.depth_um == 18 and polish.pattern.width_um == 20
    assert polish.angles_deg == (-20.0, 20.0) and polish.passes == 1


def test_scans_take_the_face_width_as_field_and_currents_in_na(recipe):
    actions = compile_plan(recipe).slice(1).actions
    image, raster = actions[2], actions[3]
    assert isinstance(image, SEImage) and isinstance(raster, SimsRaster)
    assert image.scan.field_width_um == 20 and image.scan.resolution_px == (32, 16)
    assert image.current_na == pytest.approx(0.1) and raster.current_na == pytest.approx(0.8)
    assert raster.request.peaks == ("7Li+",) and image.product == "se_image"


def test_a_slice_outside_the_plan_is_refused(recipe):
    with pytest.raises(IndexError, match="outside the plan"):
        compile_plan(recipe).slice(4)
