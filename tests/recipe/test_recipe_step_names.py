"""Step names: ``name:`` names a step's product; unnamed steps keep the names they always had."""

from __future__ import annotations

import pytest

from fibsims.recipe import Problem, RecipeError, parse_recipe
from fibsims.recipe.naming import RESERVED_NAMES, name_clash, step_names

HEAD = """\
recipe: named
version: 1
sample: {name: NMC811 cathode}
instrument: {ion_species: Xe, voltage_kv: 30}
volume: {face_width_um: 20, face_height_um: 15, slice_thickness_nm: 25, slices: 8}
slice:
  - mill: {current_na: 15, depth_um: 16}
"""  # lines 1-7
SE = "{current_pa: 100, resolution: [192, 128], dwell_us: 3%s}"
SIMS = "{current_pa: 800, resolution: [64, 64], dwell_us: 50, frames: 4, peaks: [7Li+]%s}"


def recipe_text(*steps: str, every: str = "") -> str:
    return HEAD + "".join(f"  - {step}\n" for step in steps) + every


def se(extra: str = "") -> str:
    return "se_image: " + SE % extra


def sims(extra: str = "") -> str:
    return "sims_raster: " + SIMS % extra


def only_problem(text: str) -> Problem:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="test.yaml")
    assert len(caught.value.problems) == 1, [str(p) for p in caught.value.problems]
    return caught.value.problems[0]


def test_unnamed_steps_are_called_by_kind_then_kind_and_number() -> None:
    assert step_names([("se_image", None), ("mill", None), ("se_image", None)]) == [
        "se_image",
        "mill",
        "se_image_2",
    ]


def test_naming_a_step_does_not_rename_the_others() -> None:
    assert step_names([("se_image", "overview"), ("se_image", None)]) == [
        "overview",
        "se_image_2",
    ]


def test_a_step_takes_its_name_from_the_recipe() -> None:
    recipe = parse_recipe(recipe_text(se(", name: overview"), sims(", name: li_map")))
    assert [step.name for step in recipe.slice] == [None, "overview", "li_map"]


def test_two_steps_of_one_name_are_refused_at_the_second_name() -> None:
    problem = only_problem(recipe_text(se(", name: face"), sims(", name: face")))
    assert (problem.path, problem.line) == ("slice.2.sims_raster.name", 9)
    assert "two steps are called 'face'" in problem.message
    assert "slice.1 (se_image, name: face)" in problem.message
    assert "give one of them another name" in problem.message


def test_a_name_that_an_unnamed_step_is_given_already_is_refused() -> None:
    problem = only_problem(recipe_text(se(), se(", name: se_image")))
    assert (problem.path, problem.line) == ("slice.2.se_image.name", 9)
    assert "slice.1 (an unnamed se_image, hence 'se_image')" in problem.message


def test_an_unnamed_step_whose_generated_name_is_taken_is_refused_at_that_step() -> None:
    problem = only_problem(recipe_text(sims(", name: se_image_2"), se(), se()))
    assert (problem.path, problem.line) == ("slice.3.se_image", 10)
    assert "an unnamed se_image, hence 'se_image_2'" in problem.message


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_names_the_run_file_uses_itself_are_refused(name: str) -> None:
    problem = only_problem(recipe_text(se(f", name: {name}")))
    assert problem.path == "slice.1.se_image.name"
    assert f"'{name}' is taken by the run file" in problem.message


@pytest.mark.parametrize("name", ["Li", "2d", "li-map", "li map", "_li", "x" * 65])
def test_a_name_must_be_lowercase_letters_digits_and_underscores(name: str) -> None:
    problem = only_problem(recipe_text(se(f", name: '{name}'")))
    assert problem.path == "slice.1.se_image.name"
    assert "allowed form" in problem.message or "at most 64 characters" in problem.message


def test_name_clash_is_none_for_unique_names() -> None:
    assert name_clash([("slice.0", "mill", None), ("slice.1", "se_image", "a")]) is None
