"""Preflight against the instrument's declared offer: currents, voltage, tilt, scans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fibsims.engine.capability_checks import capability_problems
from fibsims.engine.plan import compile_plan
from fibsims.engine.preflight import PreflightError, run_preflight
from fibsims.instrument import Capabilities, ScanCapabilities

SCAN = ScanCapabilities((1024, 1024), 0.025, 1000.0, dwell_step_us=0.025)
CAPS = Capabilities(
    current_ladder_na=(0.01, 0.1, 0.8, 4.0, 15.0, 60.0),
    current_tolerance=0.05,
    voltage_range_kv=(2.0, 30.0),
    max_field_width_um=100.0,
    se_scan=SCAN,
    sims_scan=replace(SCAN, max_resolution_px=(128, 128)),
    stage_tilt_range_deg=(-10.0, 55.0),
)


@pytest.fixture
def declared(make_instrument):
    def make(caps: Capabilities | None = CAPS):
        instrument = make_instrument()
        instrument.capabilities = caps
        return instrument

    return make


def _with_step(recipe, position: int, **update):
    changed = recipe.model_copy(deep=True)
    changed.slice[position] = changed.slice[position].model_copy(update=update)
    return changed


def test_a_current_between_rungs_is_refused_naming_the_nearest_rungs(recipe, declared):
    (problem,) = capability_problems(_with_step(recipe, 0, current_na=13.7), declared())
    assert problem == (
        "slice.0.mill.current_na: 13.7 nA is not on the column's current ladder; "
        "nearest: 4 nA, 15 nA"
    )


def test_a_rounded_rung_label_is_accepted(recipe, declared):
    assert capability_problems(_with_step(recipe, 0, current_na=14.6), declared()) == []


def test_a_pa_field_is_answered_in_pa_and_a_factor_of_1000_slip_is_named(recipe, declared):
    (problem,) = capability_problems(_with_step(recipe, 2, current_pa=0.1), declared())
    assert problem.startswith("slice.2.se_image.current_pa: 0.1 pA is not on the column's")
    assert "nearest: 10 pA" in problem
    assert "did you mean current_pa: 100 (100 pA, a factor of 1000 off)?" in problem


def test_the_column_ladder_is_used_when_the_backend_declares_nothing(recipe, declared):
    instrument = declared(None)
    off_ladder = _with_step(recipe, 0, current_na=13.7)
    assert capability_problems(off_ladder, instrument)[0].startswith("slice.0.mill.current_na")
    huge = _with_step(recipe, 2, resolution=(8192, 8192))
    assert capability_problems(huge, instrument) == [], "no declared scan limits: unchecked"


def test_scans_beyond_the_scan_generators_are_refused_with_their_fields(recipe, declared):
    bad = _with_step(recipe, 3, resolution=(256, 256), dwell_us=10.01)
    bad = _with_step(bad, 2, field_width_um=150.0)
    problems = capability_problems(bad, declared())
    assert any(
        p.startswith("slice.3.sims_raster.resolution: resolution [256, 256] is larger than")
        and "[128, 128]" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("slice.3.sims_raster.dwell_us") and "nearest: 10 or 10.025" in p
        for p in problems
    ), problems
    assert any(p.startswith("slice.2.se_image.field_width_um: 150 um is wider") for p in problems)


def test_voltage_and_tilt_outside_the_instrument_are_refused(recipe, declared):
    settings = recipe.instrument.model_copy(update={"voltage_kv": 1.0, "stage_tilt_deg": 60.0})
    problems = capability_problems(recipe.model_copy(update={"instrument": settings}), declared())
    assert "instrument.voltage_kv: 1 kV is outside the column's 2 to 30 kV" in problems
    assert "instrument.stage_tilt_deg: 60 deg is outside the stage's -10 to 55 deg" in problems


def test_a_raster_on_an_instrument_without_a_spectrometer_is_refused(recipe, declared):
    problems = capability_problems(recipe, declared(replace(CAPS, sims_scan=None)))
    assert problems == [
        "slice.3.sims_raster: the instrument has no ToF spectrometer to raster with"
    ]


def test_a_refused_recipe_moves_nothing(recipe, declared):
    instrument = declared()
    tilted = recipe.instrument.model_copy(update={"stage_tilt_deg": 30.0})
    bad = _with_step(recipe.model_copy(update={"instrument": tilted}), 0, current_na=13.7)
    with pytest.raises(PreflightError, match=r"13\.7 nA"):
        run_preflight(compile_plan(bad), instrument)
    assert instrument.calls.log == [], "no stage move, no current, no unblank before refusing"
    assert instrument.stage.position().tilt_deg == 0.0


def test_a_scheduled_step_is_checked_where_the_recipe_wrote_it(recipe, declared):
    from tests.engine.conftest import RECIPE_TEXT

    from fibsims.recipe import parse_recipe

    text = RECIPE_TEXT.replace(
        "every: [{slices: 2, do: autofocus}]",
        "every: [{slices: 2, do: autofocus},\n"
        "        {slices: 4, do: {sims_raster: {name: li_map, current_pa: 137, "
        "resolution: [16, 12], dwell_us: 10, frames: 2, peaks: [7Li+]}}}]",
    )
    assert text != RECIPE_TEXT
    (problem,) = capability_problems(parse_recipe(text), declared())
    assert problem.startswith(
        "every.1.do.sims_raster.current_pa: 137 pA is not on the column's current ladder; "
        "nearest: 100 pA, 800 pA"
    )


def test_a_fiducial_beam_shift_beyond_the_deflectors_names_the_declared_range(recipe, declared):
    from fibsims.recipe import Fiducial

    with_fiducial = recipe.model_copy(
        update={"fiducial": Fiducial(current_na=4, center_y_um=-10, max_beam_shift_um=40)}
    )
    caps = replace(CAPS, beam_shift_range_um=25.0)
    assert capability_problems(with_fiducial, declared(caps)) == [
        "fiducial.max_beam_shift_um: 40 um is beyond the column's beam-shift range of +-25 um "
        "per axis; use at most 25"
    ]
    assert capability_problems(with_fiducial, declared(CAPS)) == [], "range not declared"


def test_a_rocking_angle_beyond_the_declared_rotation_is_named_by_its_index(recipe, declared):
    caps = replace(CAPS, stage_rotation_range_deg=(-15.0, 15.0))
    assert capability_problems(recipe, declared(caps)) == [
        "slice.1.rocking_polish.angles_deg.0: -20 deg is beyond the stage's rotation -15 to 15 deg",
        "slice.1.rocking_polish.angles_deg.1: 20 deg is beyond the stage's rotation -15 to 15 deg",
    ]
