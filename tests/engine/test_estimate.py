"""An estimate is made from the plan and the backend's cost model, before anything moves."""

from __future__ import annotations

import pytest

from fibsims.engine.costs import LowerBoundCosts, scan_floor_s
from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import compile_plan
from fibsims.engine.preflight import check
from fibsims.instrument.types import ScanRequest


def test_without_a_cost_model_the_estimate_is_the_scan_floor(recipe):
    plan = compile_plan(recipe)
    estimate = estimate_plan(plan, None)
    se = scan_floor_s(ScanRequest((32, 16), 1.0, 1, 20.0))
    sims = scan_floor_s(ScanRequest((8, 8), 10.0, 2, 20.0))
    assert estimate.lower_bound and "at least" in estimate.describe()
    assert estimate.by_kind_s == pytest.approx({"se_image": 4 * se, "sims_raster": 4 * sims})
    assert estimate.data_bytes == 4 * (32 * 16 * 2 + 8 * 8 * 1 * 4 + 8), "+ saturated lines"


def test_scheduled_tasks_are_counted_from_the_first_slice_on(recipe):
    class FocusCosts(LowerBoundCosts):
        def autofocus_s(self) -> float:
            return 1.0

    plan = compile_plan(recipe)  # 4 slices, autofocus every 2: slices 0 and 2
    assert estimate_plan(plan, FocusCosts()).by_kind_s["autofocus"] == 2.0
    assert estimate_plan(plan, FocusCosts(), first_slice=1).by_kind_s["autofocus"] == 1.0
    assert estimate_plan(plan, FocusCosts(), first_slice=3).by_kind_s.get("autofocus") is None
    assert estimate_plan(plan, FocusCosts(), first_slice=4).total_s == 0.0


def test_a_huge_plan_is_estimated_without_building_every_slice(recipe):
    big = recipe.model_copy(update={"volume": recipe.volume.model_copy(update={"slices": 100_000})})
    estimate = estimate_plan(compile_plan(big), None)
    assert estimate.slices == 100_000
    assert estimate.data_bytes == 100_000 * (32 * 16 * 2 + 8 * 8 * 4 + 8)


class MillingCosts(LowerBoundCosts):
    """A backend whose mills take 30 s (else the scan floor)."""

    def mill_s(self, pattern, current_na, at=None) -> float:
        return 30.0


def _costed(make_instrument):
    instrument = make_instrument()
    instrument.costs = MillingCosts()
    return instrument


def test_preflight_refuses_a_run_longer_than_its_time_limit_with_the_numbers(
    recipe, make_instrument
):
    slow = recipe.model_copy(
        update={
            "limits": recipe.limits.model_copy(update={"max_hours": 1}),
            "volume": recipe.volume.model_copy(update={"slices": 5000}),
        }
    )
    problems = check(compile_plan(slow), _costed(make_instrument))
    (problem,) = [p for p in problems if p.startswith("limits.max_hours")]
    assert "needs an estimated 125 h of instrument time (5000 slices at 90 s each)" in problem
    assert "more than the limit of 1 h" in problem
    assert "raise limits.max_hours to at least 130" in problem
    floor = check(compile_plan(slow), make_instrument())
    assert not floor, "a scan floor of seconds fits in an hour: no refusal on a guess"


def test_preflight_on_resume_counts_the_time_already_spent(recipe, make_instrument):
    plan = compile_plan(recipe)  # 4 slices of 30 s mills, limit 48 h
    assert check(plan, _costed(make_instrument)) == []
    late = check(plan, _costed(make_instrument), first_slice=2, start_s=47.99 * 3600)
    assert any("resume with --max-hours 49" in p and "48 h done" in p for p in late), late
    assert (
        check(plan, _costed(make_instrument), first_slice=2, start_s=47.99 * 3600, max_hours=60)
        == []
    )


def test_preflight_refuses_a_frame_too_long_to_pause_for(recipe, make_instrument):
    slow = recipe.model_copy(deep=True)
    slow.slice[2] = slow.slice[2].model_copy(update={"resolution": (4096, 4096), "dwell_us": 50})
    problems = check(compile_plan(slow), make_instrument())
    assert any(p.startswith("slice.2.se_image: one frame takes 838.9 s") for p in problems)


def test_the_ion_dose_is_each_beam_on_time_at_its_current(recipe):
    estimate = estimate_plan(compile_plan(recipe), MillingCosts())
    se = scan_floor_s(ScanRequest((32, 16), 1.0, 1, 20.0))
    sims = scan_floor_s(ScanRequest((8, 8), 10.0, 2, 20.0))
    # per slice: a 30 s cut at 15 nA, two 30 s polish passes at 4 nA, the image at 0.1 nA and
    # the raster at 0.8 nA (nC = nA x s); stage moves and current changes deliver nothing
    per_slice_nc = 15 * 30 + 2 * 4 * 30 + 0.1 * se + 0.8 * sims
    assert estimate.ion_dose_nc == pytest.approx(4 * per_slice_nc, rel=1e-9)
