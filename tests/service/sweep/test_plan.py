"""The variants of a sweep: --vary parsing, the path shorthand, the grid, seeds, ids, and the
variants file. No run, no Dask: milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibsims.service.sweep.axes import (
    SweepInputError,
    parse_vary,
    resolve_path,
    split_values,
)
from fibsims.service.sweep.checks import SweepInvalid, check_variants
from fibsims.service.sweep.plan import MAX_VARIANTS, base_data, file_plan, grid_plan

ROOT = Path(__file__).resolve().parents[3]
QUICK = ROOT / "recipes" / "quick.yaml"


@pytest.fixture(scope="module")
def data():
    return base_data(QUICK.read_text(), str(QUICK), ())


def test_values_split_at_top_level_commas_only():
    assert split_values("5,10, 20") == ["5", "10", "20"]
    assert split_values("[64,48],[128, 96]") == ["[64,48]", "[128, 96]"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("sims_raster.frames", "no '='"),
        ("sims_raster.frames=", "an empty value"),
        ("sims_raster.frames=5,,10", "an empty value"),
        ("=5,10", "empty part"),
        ("sims_raster..frames=5", "empty part"),
        ("sims_raster.frames=5,5", "given twice"),
    ],
)
def test_bad_vary_syntax_is_refused_naming_the_form(spec, says):
    with pytest.raises(SweepInputError, match=says):
        parse_vary(spec)


def test_shorthand_names_the_one_step_of_its_kind(data):
    assert resolve_path("sims_raster.frames", data) == "slice.3.sims_raster.frames"
    assert resolve_path("mill.current_na", data) == "slice.0.mill.current_na"
    assert resolve_path("volume.slices", data) == "volume.slices"  # a recipe field: as given
    assert resolve_path("slice.2.se_image.dwell_us", data) == "slice.2.se_image.dwell_us"


def test_shorthand_by_step_name(data):
    data = {**data, "slice": [*data["slice"]]}
    data["slice"][3] = {"sims_raster": {**data["slice"][3]["sims_raster"], "name": "li_map"}}
    assert resolve_path("li_map.dwell_us", data) == "slice.3.sims_raster.dwell_us"


def test_ambiguous_shorthand_names_every_full_path(data):
    data = {**data, "slice": [*data["slice"], data["slice"][3]]}
    with pytest.raises(SweepInputError) as caught:
        resolve_path("sims_raster.frames", data)
    message = str(caught.value)
    assert "2 sims_raster steps" in message
    assert "slice.3.sims_raster.frames or slice.4.sims_raster.frames" in message


def test_unknown_head_and_missing_step_are_refused(data):
    with pytest.raises(SweepInputError, match="'sims' is neither a recipe field"):
        resolve_path("sims.frames", data)
    no_raster = {**data, "slice": data["slice"][:3]}
    with pytest.raises(SweepInputError, match="has no sims_raster step"):
        resolve_path("sims_raster.frames", no_raster)


def test_grid_is_cartesian_first_axis_outermost_seeds_innermost(data):
    plan = grid_plan(
        ["sims_raster.frames=5,10", "se_image.dwell_us=1,2.5"],
        data,
        [811, 812],
        ["volume.slices=2"],
    )
    assert len(plan.variants) == 8
    first, second, last = plan.variants[0], plan.variants[1], plan.variants[-1]
    assert first.id == "001_frames-5_dwell_us-1_s811"
    assert second.id == "002_frames-5_dwell_us-1_s812"
    assert last.id == "008_frames-10_dwell_us-2.5_s812"
    assert last.values == {"sims_raster.frames": 10, "se_image.dwell_us": 2.5}
    assert last.sets == (
        "volume.slices=2",
        "slice.3.sims_raster.frames=10",
        "slice.2.se_image.dwell_us=2.5",
    )
    assert plan.axes == {"sims_raster.frames": [5, 10], "se_image.dwell_us": [1, 2.5]}
    assert len({v.id for v in plan.variants}) == 8


def test_one_seed_leaves_the_seed_out_of_the_ids(data):
    plan = grid_plan(["sims_raster.frames=5,10,20"], data, [811], ())
    assert [v.id for v in plan.variants] == ["001_frames-5", "002_frames-10", "003_frames-20"]


def test_an_absurd_grid_is_refused_with_its_count(data):
    values = ",".join(str(i) for i in range(1, 201))
    with pytest.raises(SweepInputError, match=r"40,000 variants .*at most 10,000"):
        grid_plan([f"sims_raster.frames={values}", f"se_image.frames={values}"], data, [1], ())
    assert MAX_VARIANTS == 10_000


def test_the_same_field_twice_is_refused(data):
    with pytest.raises(SweepInputError, match="same recipe field"):
        grid_plan(["sims_raster.frames=1", "slice.3.sims_raster.frames=2"], data, [1], ())


def test_variants_file_lists_mappings(tmp_path, data):
    path = tmp_path / "variants.yaml"
    path.write_text(
        "- {sims_raster.frames: 5}\n- {sims_raster.frames: 10, sims_raster.resolution: [32, 24]}\n"
    )
    plan = file_plan(path, data, [7], ())
    assert [v.id for v in plan.variants] == ["001_frames-5", "002_frames-10_resolution-32-24"]
    assert plan.variants[1].sets == (
        "slice.3.sims_raster.frames=10",
        "slice.3.sims_raster.resolution=[32, 24]",
    )
    assert plan.axes == {"sims_raster.frames": [5, 10], "sims_raster.resolution": [[32, 24]]}
    path.write_text("sims_raster.frames: 5\n")
    with pytest.raises(SweepInputError, match="non-empty list of mappings"):
        file_plan(path, data, [7], ())


@pytest.mark.slow
def test_every_invalid_variant_is_reported_at_once_by_id_and_field(data):
    plan = grid_plan(["sims_raster.frames=0,2", "mill.current_na=15,13.7"], data, [811], ())
    with pytest.raises(SweepInvalid) as caught:
        check_variants(QUICK.read_text(), QUICK, plan.variants)
    message = str(caught.value)
    assert message.startswith("3 of 4 variants cannot run; nothing was started")
    assert "001_frames-0_current_na-15: slice.3.sims_raster.frames (from --set" in message
    assert "002_frames-0_current_na-13.7: slice.3.sims_raster.frames" in message
    assert "004_frames-2_current_na-13.7: slice.0.mill.current_na: 13.7 nA is not on" in message
    assert "003_" not in message
