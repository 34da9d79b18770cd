"""``--set path=value`` changes a recipe's YAML data before validation: its problems read like
the file's, by the same path, but say they came from ``--set``; a path that leads nowhere
names the keys (or indices) that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibsims.recipe import RecipeError, load_recipe, parse_overrides

QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"


def _load(*specs: str):
    return load_recipe(QUICK, parse_overrides(specs))


def _problem(*specs: str) -> str:
    with pytest.raises(RecipeError) as caught:
        _load(*specs)
    return str(caught.value)


def test_values_are_read_as_yaml_at_the_paths_errors_use():
    recipe = _load(
        "volume.slices=10",
        "slice.2.se_image.dwell_us=2",
        "slice.2.se_image.resolution=[64, 32]",
        "limits.max_hours=3.5",
    )
    assert recipe.volume.slices == 10
    assert recipe.slice[2].dwell_us == 2.0 and tuple(recipe.slice[2].resolution) == (64, 32)
    assert recipe.limits.max_hours == 3.5


def test_a_section_the_file_leaves_out_is_made_when_the_language_has_it(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(QUICK.read_text().replace("limits: {max_hours: 2}\n", ""))
    recipe = load_recipe(bare, parse_overrides(["limits.max_hours=7"]))
    assert recipe.limits.max_hours == 7


def test_the_last_of_two_overrides_of_one_field_wins():
    assert _load("volume.slices=3", "volume.slices=4").volume.slices == 4


def test_an_invalid_value_is_reported_as_coming_from_set_not_from_a_line():
    text = _problem("volume.slices=0")
    assert "volume.slices (from --set volume.slices=0): must be at least 1 (got 0)" in text
    assert "line" not in text


def test_an_unknown_key_at_the_end_lists_the_allowed_ones():
    text = _problem("volume.slicez=3")
    assert "volume.slicez (from --set volume.slicez=3): unknown field" in text
    assert "face_width_um" in text and "did you mean slices" in text


def test_an_unknown_section_lists_the_recipes_keys():
    text = _problem("volum.slices=3")
    assert "the recipe has no key 'volum'; its keys: recipe, version" in text


def test_a_step_of_another_kind_names_the_kind_that_is_there():
    assert "slice.2 has no key 'mill'; its keys: se_image" in _problem("slice.2.mill.depth_um=1")


def test_an_index_beyond_the_list_gives_the_range():
    assert "slice is a list of 4 items: give an index 0..3" in _problem("slice.9.mill.depth_um=1")
    assert "give an index 0..3" in _problem("slice.first.mill.depth_um=1")


def test_a_path_through_a_single_value_says_so():
    text = _problem("volume.slices.count=3")
    assert "volume.slices is a single value (6), it has no 'count'" in text


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("volume.slices", "give it as path=value"),
        ("volume..slices=3", "has an empty part"),
        ("=3", "has an empty part"),
        ("volume.slices=", "no value after '='"),
        ("volume.slices=[1, 2", "is not a YAML value"),
    ],
)
def test_a_malformed_set_is_refused_naming_it(spec, says):
    with pytest.raises(RecipeError) as caught:
        parse_overrides([spec])
    assert caught.value.source == "--set"
    assert says in str(caught.value) and repr(spec) in str(caught.value)


def test_a_huge_value_is_refused_by_the_loaders_input_limits():
    with pytest.raises(RecipeError, match="too large"):
        parse_overrides(["volume.slices=" + "[" * 500 + "]" * 500])
