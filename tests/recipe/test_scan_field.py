"""Where a scan's field lies: width or height (square pixels), and a centre offset."""

from __future__ import annotations

import pytest
from tests.recipe.test_recipe_errors import edit

from fibsims.engine.steps.imaging import scan_request
from fibsims.recipe import RecipeError, parse_recipe

RASTER = "      resolution: [256, 256]\n"


def _raster(extra: str, resolution: str = "[256, 192]"):
    text = edit(RASTER, f"      resolution: {resolution}\n{extra}")
    return parse_recipe(text).slice[2]


def test_a_field_height_alone_sets_the_width_by_the_resolution_aspect() -> None:
    step = _raster("      field_height_um: 15\n")
    scan = scan_request(step, face_width_um=40.0)
    assert scan.field_width_um == 20.0 and scan.field_height_um == 15.0


def test_width_and_height_that_agree_with_the_resolution_are_accepted() -> None:
    step = _raster("      field_width_um: 20\n      field_height_um: 15\n")
    assert scan_request(step, 99.0).field_height_um == 15.0


def test_width_and_height_that_disagree_with_the_resolution_name_the_one_that_fits() -> None:
    text = edit(
        RASTER,
        "      resolution: [256, 256]\n      field_width_um: 20\n      field_height_um: 15\n",
    )
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="t.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "slice.2.sims_raster.field_height_um"
    assert problem.line == 19
    assert "20 x 15 um does not match the resolution [256, 256] with square pixels" in (
        problem.message
    )
    assert "set resolution [256, 192]" in problem.message


def test_a_centre_offset_moves_the_scan_and_defaults_to_the_face_centre() -> None:
    moved = scan_request(_raster("      field_center_um: [2.5, -1]\n"), 20.0)
    assert (moved.center_x_um, moved.center_y_um) == (2.5, -1.0)
    still = scan_request(_raster(""), 20.0)
    assert (still.center_x_um, still.center_y_um) == (0.0, 0.0)


@pytest.mark.parametrize("centre", ["[1e9, 0]", "[.nan, 0]", "[1, 2, 3]", "oops"])
def test_an_absurd_centre_is_refused_at_its_field(centre: str) -> None:
    text = edit(RASTER, f"      resolution: [256, 192]\n      field_center_um: {centre}\n")
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="t.yaml")
    assert any(
        p.path.startswith("slice.2.sims_raster.field_center_um") for p in caught.value.problems
    )
