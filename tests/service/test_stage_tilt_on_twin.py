"""The recipe's stage tilt reaches the instrument before the first slice and acts through the
twin's angular yields (mills and polishes take less time), or is refused naming the field."""

from __future__ import annotations

import pytest

from fibsims.engine.preflight import PreflightError
from fibsims.service.runs import RunRequest, start_run
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.sputtering import SputterModel

UNTILTED = "instrument: {ion_species: Xe, voltage_kv: 30}"


def _run(recipe, out):
    return start_run(RunRequest(recipe, out=out, seed=1, progress=False))


def test_a_tilted_recipe_mills_faster_by_the_angular_sputter_yield(quick_variant, tmp_path):
    flat = _run(quick_variant(2), tmp_path / "flat")
    tilted_recipe = quick_variant(
        2, (UNTILTED, "instrument: {ion_species: Xe, voltage_kv: 30, stage_tilt_deg: 30}")
    )
    tilted = _run(tilted_recipe, tmp_path / "tilted")
    assert flat.ok and tilted.ok
    p = TwinParameters()
    ratio = SputterModel(p.column, p.materials).nmc.ratio(30.0)  # ~1.2: the trench floor at 30 deg
    flat_s, tilted_s = flat.summary["step_seconds"], tilted.summary["step_seconds"]
    # the patterns sputter `ratio` faster; current changes and stage moves do not
    assert 1.1 < flat_s["mill"] / tilted_s["mill"] < ratio
    assert 1.05 < flat_s["rocking_polish"] / tilted_s["rocking_polish"] < ratio
    assert flat_s["se_image"] == tilted_s["se_image"]


def test_a_tilt_beyond_the_stage_is_refused_before_anything_moves_naming_the_field(
    quick_variant, tmp_path
):
    recipe = quick_variant(
        2, (UNTILTED, "instrument: {ion_species: Xe, voltage_kv: 30, stage_tilt_deg: 85}")
    )
    with pytest.raises(PreflightError) as refused:  # before anything moves: the stage's range
        _run(recipe, tmp_path / "run")
    says = "instrument.stage_tilt_deg: 85 deg is outside the stage's -15 to 60 deg"
    assert refused.value.problems == [says]
