"""Bad recipes: every problem is reported with its field path, its line and a readable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibsims.recipe import Problem, RecipeError, load_recipe, parse_recipe

FIXTURES = Path(__file__).parent / "fixtures"

# Line numbers in the comments: the tests below point at them.
HEAD = """\
recipe: test-run
version: 1
sample: {name: NMC811 cathode, twin: {phantom: nmc811, seed: 811, porosity: 0.3}}
instrument: {ion_species: Xe, voltage_kv: 30}
volume:
  face_width_um: 20
  face_height_um: 15
  slice_thickness_nm: 25
  slices: 400
"""  # lines 1-9
SLICE = """\
slice:
  - mill:
      current_na: 15
      depth_um: 18
  - se_image: {current_pa: 100, resolution: [1536, 1024], dwell_us: 3}
  - sims_raster:
      current_pa: 800
      resolution: [256, 256]
      dwell_us: 50
      frames: 20
      polarity: positive
      peaks: [6Li+, 7Li+, 59Co+]
"""  # lines 10-21
TAIL = """\
every:
  - {slices: 10, do: autofocus}
limits: {max_hours: 30}
"""  # lines 22-24
VALID = HEAD + SLICE + TAIL


def problems(text: str) -> list[Problem]:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="test.yaml")
    assert caught.value.source == "test.yaml"
    return caught.value.problems


def only_problem(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_base_recipe_of_these_tests_is_valid() -> None:
    assert parse_recipe(VALID).recipe == "test-run"


def test_negative_current_names_path_line_value_and_unit() -> None:
    problem = only_problem(edit("current_na: 15", "current_na: -15"))
    assert (problem.path, problem.line) == ("slice.0.mill.current_na", 12)
    assert str(problem) == (
        "slice.0.mill.current_na (line 12): must be greater than 0 (got -15); a beam current in "
        "nA, up to 2500, the most a plasma FIB column gives"
    )


def test_unknown_top_level_key_lists_the_allowed_fields() -> None:
    problem = only_problem(VALID + "colour: red\n")
    assert (problem.path, problem.line) == ("colour", 25)
    assert problem.message.startswith(
        "unknown field; allowed: recipe, version, description, sample, instrument, volume, "
        "slice, every, fiducial, limits"
    )


def test_misspelt_nested_key_is_unknown_and_the_real_one_missing() -> None:
    found = problems(edit("  slice_thickness_nm: 25", "  slice_thick_nm: 25"))
    assert [(p.path, p.line) for p in found] == [
        ("volume.slice_thickness_nm", 5),
        ("volume.slice_thick_nm", 8),
    ]
    assert str(found[1]) == (
        "volume.slice_thick_nm (line 8): unknown field; allowed: face_width_um, "
        "face_height_um, slice_thickness_nm, slices; did you mean slice_thickness_nm?"
    )
    assert found[0].message.startswith("required but missing")


def test_unknown_key_inside_a_step_lists_that_steps_settings() -> None:
    problem = only_problem(edit("dwell_us: 3}", "dwell_us: 3, brightness: 2}"))
    assert (problem.path, problem.line) == ("slice.1.se_image.brightness", 14)
    assert (
        "allowed: name, current_pa, resolution, dwell_us, frames, field_width_um, "
        "field_height_um, field_center_um" in problem.message
    )


def test_wrong_type_says_what_was_received() -> None:
    problem = only_problem(edit("slices: 400", "slices: many"))
    assert (problem.path, problem.line) == ("volume.slices", 9)
    assert problem.message.startswith("must be a whole number (got 'many')")


def test_fraction_where_a_count_belongs_is_refused() -> None:
    problem = only_problem(edit("frames: 20", "frames: 2.5"))
    assert (problem.path, problem.line) == ("slice.2.sims_raster.frames", 19)


def test_yes_where_a_number_belongs_is_refused() -> None:
    problem = only_problem(edit("slices: 400", "slices: yes"))
    assert (problem.path, problem.line) == ("volume.slices", 9)
    assert "not a yes/no value" in problem.message


def test_missing_required_field_points_at_its_parent() -> None:
    problem = only_problem(edit("      depth_um: 18\n", ""))
    assert (problem.path, problem.line) == ("slice.0.mill.depth_um", 11)
    assert problem.message.startswith("required but missing")


def test_missing_top_level_section_points_at_the_first_line() -> None:
    problem = only_problem(edit("instrument: {ion_species: Xe, voltage_kv: 30}\n", "", VALID))
    assert (problem.path, problem.line) == ("instrument", 1)


def test_value_out_of_range_says_the_limit() -> None:
    problem = only_problem(edit("voltage_kv: 30", "voltage_kv: 31"))
    assert (problem.path, problem.line) == ("instrument.voltage_kv", 4)
    assert problem.message.startswith("must be at most 30 (got 31)")


def test_value_not_in_a_choice_lists_the_choices() -> None:
    problem = only_problem(edit("ion_species: Xe", "ion_species: Kr"))
    assert (problem.path, problem.line) == ("instrument.ion_species", 4)
    assert problem.message.startswith("must be 'Xe', 'Ar', 'O' or 'N' (got 'Kr')")


def test_bad_peak_label_points_at_the_peak() -> None:
    problem = only_problem(edit("7Li+", "7li+"))
    assert (problem.path, problem.line) == ("slice.2.sims_raster.peaks.1", 21)
    assert "got '7li+'" in problem.message
    assert "e.g. 7Li+" in problem.message


def test_peak_sign_must_match_the_polarity() -> None:
    problem = only_problem(edit("7Li+", "7Li-"))
    assert (problem.path, problem.line) == ("slice.2.sims_raster.peaks", 21)
    assert problem.message.startswith("7Li- cannot be seen with polarity positive")
    assert "polarity: negative" in problem.message


def test_negative_polarity_needs_negative_peaks() -> None:
    text = edit("peaks: [6Li+, 7Li+, 59Co+]", "peaks: [16O-, 19F-]")
    assert problems(text)[0].path == "slice.2.sims_raster.peaks"
    recipe = parse_recipe(edit("polarity: positive", "polarity: negative", text))
    assert recipe.slice[2].peaks == ["16O-", "19F-"]  # type: ignore[union-attr]


def test_a_peak_given_twice_is_refused() -> None:
    problem = only_problem(edit("59Co+]", "6Li+]"))
    assert (problem.path, problem.line) == ("slice.2.sims_raster.peaks", 21)
    assert "6Li+ more than once" in problem.message


def test_two_keys_in_one_slice_item_lists_the_step_kinds() -> None:
    text = edit(
        "dwell_us: 3}\n", "dwell_us: 3}\n    rocking_polish: {current_na: 4, angles_deg: [0]}\n"
    )
    problem = only_problem(text)
    assert (problem.path, problem.line) == ("slice.1", 14)
    assert "has 2 keys (se_image, rocking_polish)" in problem.message
    assert problem.message.endswith("mill, rocking_polish, se_image, sims_raster")


def test_settings_not_indented_under_the_step_say_so() -> None:
    text = edit(
        "      current_na: 15\n      depth_um: 18\n", "    current_na: 15\n    depth_um: 18\n"
    )
    problem = only_problem(text)
    assert (problem.path, problem.line) == ("slice.0", 11)
    assert "indent current_na, depth_um under 'mill:'" in problem.message


def test_unknown_step_kind_points_at_it_and_lists_the_kinds() -> None:
    problem = only_problem(edit("- se_image:", "- sem_image:"))
    assert (problem.path, problem.line) == ("slice.1.sem_image", 14)
    assert problem.message == (
        "unknown step kind; allowed: mill, rocking_polish, se_image, sims_raster; "
        "did you mean se_image?"
    )


def test_step_kind_without_settings_lists_what_it_needs() -> None:
    problem = only_problem(
        edit("se_image: {current_pa: 100, resolution: [1536, 1024], dwell_us: 3}", "se_image")
    )
    assert (problem.path, problem.line) == ("slice.1", 14)
    assert "it needs at least current_pa, resolution, dwell_us" in problem.message


def test_empty_slice_list_is_refused() -> None:
    problem = only_problem(HEAD + "slice: []\n" + TAIL)
    assert (problem.path, problem.line) == ("slice", 10)
    assert problem.message.startswith("needs at least 1 item (got 0)")


def test_mill_shallower_than_the_face_says_the_fix() -> None:
    problem = only_problem(edit("depth_um: 18", "depth_um: 10"))
    assert (problem.path, problem.line) == ("slice.0.mill.depth_um", 13)
    assert "face_height_um is 15 um" in problem.message
    assert "set depth_um to at least 15" in problem.message


def test_a_slice_without_a_mill_is_refused() -> None:
    text = edit("  - mill:\n      current_na: 15\n      depth_um: 18\n", "")
    problem = only_problem(text)
    assert (problem.path, problem.line) == ("slice", 10)
    assert problem.message.startswith("no mill step")


def test_a_second_mill_is_refused() -> None:
    problem = only_problem(
        VALID.replace("every:", "  - mill: {current_na: 1, depth_um: 20}\nevery:")
    )
    assert (problem.path, problem.line) == ("slice.3.mill", 22)
    assert "the first is slice.0" in problem.message


def test_schedule_task_must_be_known() -> None:
    problem = only_problem(edit("do: autofocus", "do: drift"))
    assert (problem.path, problem.line) == ("every.0.do", 23)
    assert problem.message.startswith("must be 'autofocus' or 'auto_contrast' (got 'drift')")


def test_yaml_syntax_error_reports_its_line() -> None:
    problem = only_problem(edit("  face_height_um: 15", "  face_height_um: 15: 16"))
    assert (problem.path, problem.line) == ("", 7)
    assert problem.message.startswith("not valid YAML")
    assert str(problem).startswith("line 7: not valid YAML")


def test_tab_indentation_gets_a_hint() -> None:
    problem = only_problem(edit("  face_height_um: 15", "\tface_height_um: 15"))
    assert problem.line == 7
    assert "tabs" in problem.message


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    problem = only_problem(edit("  slices: 400\n", "  slices: 400\n  slices: 300\n"))
    assert (problem.path, problem.line) == ("volume.slices", 10)
    assert "first given on line 9" in problem.message


def test_duplicate_key_is_reported_along_with_other_problems() -> None:
    text = edit("  slices: 400\n", "  slices: 400\n  slices: 0\n")
    assert [(p.path, p.line) for p in problems(text)] == [
        ("volume.slices", 10),
        ("volume.slices", 10),
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "~\n"])
def test_empty_document_is_one_clear_problem(text: str) -> None:
    problem = only_problem(text)
    assert problem.path == ""
    assert problem.message.startswith("the recipe is empty")


def test_a_list_at_top_level_is_one_clear_problem() -> None:
    problem = only_problem("- recipe: x\n- version: 1\n")
    assert (problem.path, problem.line) == ("", 1)
    assert problem.message.startswith("the top level must be a mapping")


def test_two_documents_in_one_file_are_refused() -> None:
    problem = only_problem(VALID + "---\n" + VALID)
    assert problem.line == 25
    assert "one YAML document" in problem.message


def test_python_tags_are_refused_not_executed() -> None:
    problem = only_problem(edit("recipe: test-run", "recipe: !!python/object/apply:os.getcwd []"))
    assert problem.line == 1
    assert problem.message.startswith("not valid YAML")


def test_missing_file_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.source == str(path)
    assert caught.value.problems == [Problem("", None, "no such file")]
    assert str(caught.value) == f"{path}: 1 problem\n  no such file"


def test_unreadable_file_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("recipe: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert caught.value.problems[0].message.startswith("not UTF-8 text")
    with pytest.raises(RecipeError) as caught:
        load_recipe(tmp_path)
    assert "directory" in caught.value.problems[0].message


def test_negative_current_and_unknown_key_are_both_reported_with_lines() -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(FIXTURES / "bad-current-and-unknown-key.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "slice.0.mill.current_na (line 7): must be greater than 0 (got -15); a beam current in "
        "nA, up to 2500, the most a plasma FIB column gives",
        "slice.1.se_image.brightness (line 8): unknown field; allowed: name, current_pa, "
        "resolution, dwell_us, frames, field_width_um, field_height_um, field_center_um",
    ]


def test_every_problem_in_a_file_is_reported_in_line_order() -> None:
    text = VALID
    for old, new in [
        ("recipe: test-run", "recipe: Test Run"),
        ("seed: 811", "seed: -1"),
        ("slices: 400", "slices: 0"),
        ("- se_image:", "- se_imag:"),
        ("frames: 20", "frames: 0"),
        ("limits: {max_hours: 30}", "limits: {max_hours: 30, min_hours: 1}"),
    ]:
        text = edit(old, new, text)
    assert [(p.path, p.line) for p in problems(text)] == [
        ("recipe", 1),
        ("sample.twin.seed", 3),
        ("volume.slices", 9),
        ("slice.1.se_imag", 14),
        ("slice.2.sims_raster.frames", 19),
        ("limits.min_hours", 24),
    ]


def test_error_text_lists_the_source_and_each_problem() -> None:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(edit("slices: 400", "slices: 0"), source="r.yaml")
    assert str(caught.value).splitlines() == [
        "r.yaml: 1 problem",
        "  volume.slices (line 9): must be at least 1 (got 0); number of slices, 1 to 100000",
    ]


def test_problem_renders_without_path_or_line() -> None:
    assert str(Problem("a.b", 3, "bad")) == "a.b (line 3): bad"
    assert str(Problem("a.b", None, "bad")) == "a.b: bad"
    assert str(Problem("", 3, "bad")) == "line 3: bad"
    assert str(Problem("", None, "bad")) == "bad"


def test_a_section_given_twice_points_into_the_last_one_and_reports_duplicates_in_both() -> None:
    text = edit("  face_width_um: 20\n", "  face_width_um: 20\n  face_width_um: 21\n")
    text += "volume:\n  face_width_um: 20\n  face_height_um: 15\n  slice_thickness_nm: 25\n"
    text += "  slices: 0\n"
    assert [(p.path, p.line) for p in problems(text)] == [
        ("volume.face_width_um", 7),
        ("volume", 26),
        ("volume.slices", 30),
    ]
