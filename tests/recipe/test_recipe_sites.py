"""``sites:``: several regions of interest sharing one recipe. Each bad site definition is
reported naming the field and its line, with the fix; a recipe without sites is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibsims.recipe import Problem, RecipeError, load_recipe, parse_recipe

ROOT = Path(__file__).resolve().parents[2]
QUICK = (ROOT / "recipes" / "quick.yaml").read_text(encoding="utf-8")
BASE = len(QUICK.splitlines())
"""Lines of quick.yaml: the sites start on line BASE + 1."""
SITES = """\
sites:
  - name: left
    stage: {x_um: 0, y_um: 0}
  - name: right
    stage: {x_um: 60, y_um: 0, z_um: 5, rotation_deg: 90}
    volume: {face_width_um: 20, face_height_um: 12, slice_thickness_nm: 50, slices: 3}
"""  # lines BASE + 1 .. BASE + 6


def _problem(text: str) -> Problem:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="sites.yaml")
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_each_site_runs_the_shared_recipe_with_its_own_volume():
    recipe = parse_recipe(QUICK + SITES)
    assert recipe.sites is not None
    left, right = (recipe.at_site(site) for site in recipe.sites)
    assert left.volume == recipe.volume and left.sites is None
    assert right.volume.slices == 3 and right.volume.slice_thickness_nm == 50
    assert right.slice == recipe.slice and right.limits == recipe.limits
    assert recipe.sites[1].stage.rotation_deg == 90 and recipe.sites[1].stage.z_um == 5


def test_a_recipe_without_sites_dumps_as_before_sites_existed():
    """run.json and run.h5 keep the recipe's dump: it must not gain a "sites" key."""
    recipe = parse_recipe(QUICK)
    assert "sites" not in recipe.model_dump(mode="json")
    assert '"sites"' not in recipe.model_dump_json()
    assert "sites" in parse_recipe(QUICK + SITES).model_dump(mode="json")


def test_the_example_recipe_has_two_sites():
    recipe = load_recipe(ROOT / "recipes" / "two-sites.yaml")
    assert [site.name for site in recipe.sites or ()] == ["a", "b"]


def test_an_empty_site_list_is_refused_naming_the_line():
    problem = _problem(QUICK + "sites: []\n")
    assert problem.path == "sites" and problem.line == BASE + 1
    assert "at least 1" in problem.message


def test_two_sites_with_one_name_are_refused_at_the_second():
    problem = _problem(QUICK + SITES.replace("name: right", "name: left"))
    assert problem.path == "sites.1.name" and problem.line == BASE + 4
    assert "'left' is already the name of sites.0" in problem.message


@pytest.mark.parametrize("name", ["Left", "a/b", "../up", "x.", "", "a b", "é"])
def test_a_site_name_that_cannot_name_a_folder_is_refused(name):
    problem = _problem(QUICK + SITES.replace("name: right", f"name: {name!r}"))
    assert problem.path == "sites.1.name" and problem.line == BASE + 4


def test_a_windows_device_name_is_refused():
    problem = _problem(QUICK + SITES.replace("name: right", "name: com1.x"))
    assert problem.path == "sites.1.name" and "device name on Windows" in problem.message


def test_overlapping_sites_are_refused_with_the_distance_they_need():
    problem = _problem(QUICK + SITES.replace("x_um: 60", "x_um: 10"))
    assert problem.path == "sites.1.stage" and problem.line == BASE + 5
    assert "overlaps the face of site 'left'" in problem.message
    assert "20 um apart in x_um" in problem.message


def test_a_site_face_deeper_than_the_mill_is_refused_at_its_volume():
    problem = _problem(QUICK + SITES.replace("face_height_um: 12", "face_height_um: 30"))
    assert problem.path == "sites.1.volume.face_height_um" and problem.line == BASE + 6
    assert "never cleared" in problem.message


def test_a_site_beyond_any_stage_travel_is_refused_naming_the_axis():
    problem = _problem(QUICK + SITES.replace("x_um: 60", "x_um: 2e6"))
    assert problem.path == "sites.1.stage.x_um" and problem.line == BASE + 5


def test_a_site_without_a_stage_position_says_what_to_add():
    problem = _problem(QUICK + "sites:\n  - {name: a}\n")
    assert problem.path == "sites.0.stage" and problem.line == BASE + 2
