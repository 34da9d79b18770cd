"""``every:`` schedules run a task by name or any step but the mill, every N slices."""

from __future__ import annotations

import pytest
import yaml
from tests.recipe.test_recipe_step_names import HEAD, only_problem, se, sims

from fibsims.recipe import (
    Schedule,
    SEImageStep,
    SimsRasterStep,
    describe,
    parse_recipe,
    recipe_json_schema,
)

SIMS_EVERY_4 = (
    "every:\n"
    "  - {slices: 10, do: autofocus}\n"
    "  - slices: 4\n"
    "    do: {%s}\n"
)  # lines 9-12 after one slice step


def text(do: str, *extra_lines: str) -> str:
    return HEAD + f"  - {se()}\n" + SIMS_EVERY_4 % do + "".join(extra_lines)


def test_a_schedule_runs_a_step_written_as_in_slice() -> None:
    recipe = parse_recipe(text(sims(", name: li_map")))
    task, raster = recipe.every
    assert task.step is None and task.kind == "autofocus"
    assert isinstance(raster.step, SimsRasterStep)
    assert raster.kind == "sims_raster" and raster.step.name == "li_map"
    assert "sims_raster li_map every 4" in describe(recipe)


def test_a_recipe_with_a_scheduled_step_dumps_and_loads_back() -> None:
    recipe = parse_recipe(text(sims()))
    dumped = recipe.model_dump(mode="json")["every"]
    assert dumped[0]["do"] == "autofocus"
    assert list(dumped[1]["do"]) == ["sims_raster"]
    assert parse_recipe(yaml.safe_dump(recipe.model_dump(mode="json"))) == recipe


def test_a_task_schedule_still_reads_as_before() -> None:
    assert Schedule(slices=10, do="autofocus").do == "autofocus"


def test_which_slices_a_schedule_runs_on_and_how_often() -> None:
    step = SEImageStep(current_pa=100, resolution=(64, 64), dwell_us=1)
    schedule = Schedule(slices=4, offset=1, do=step)
    assert [i for i in range(12) if schedule.applies_to(i)] == [1, 5, 9]
    assert schedule.runs(0, 12) == 3
    assert schedule.runs(2, 12) == 2  # a resumed run from slice 2: 5 and 9
    assert schedule.runs(10, 12) == 0


def test_a_mill_cannot_be_scheduled() -> None:
    problem = only_problem(text("mill: {current_na: 15, depth_um: 16}"))
    assert (problem.path, problem.line) == ("every.1.do.mill", 12)
    assert "every slice runs exactly one mill" in problem.message


def test_a_scheduled_steps_settings_are_checked_where_they_are() -> None:
    problem = only_problem(text(sims().replace("current_pa: 800", "current_pa: -1")))
    assert (problem.path, problem.line) == ("every.1.do.sims_raster.current_pa", 12)
    assert "a beam current in pA" in problem.message


def test_an_unknown_step_kind_in_a_schedule_says_what_it_can_run() -> None:
    problem = only_problem(text("sims_rastr: {}"))
    assert problem.path == "every.1.do.sims_rastr"
    assert "did you mean sims_raster?" in problem.message


def test_a_step_kind_without_settings_is_told_to_give_them() -> None:
    problem = only_problem(HEAD + "every: [{slices: 2, do: sims_raster}]\n")
    assert problem.path == "every.0.do"
    assert "needs its settings" in problem.message and "peaks" in problem.message


def test_an_unnamed_scheduled_step_is_numbered_after_the_slice_steps_of_its_kind() -> None:
    recipe = parse_recipe(text(se()))  # the slice has se_image: this one is se_image_2
    assert isinstance(recipe.every[1].step, SEImageStep)
    problem = only_problem(
        text(se()).replace("dwell_us: 3}\n", "dwell_us: 3, name: se_image_2}\n", 1)
    )
    assert (problem.path, problem.line) == ("every.1.do.se_image", 12)
    assert "every.1.do (an unnamed se_image, hence 'se_image_2')" in problem.message


def test_a_scheduled_steps_name_must_differ_from_the_slice_steps() -> None:
    problem = only_problem(text(se(", name: se_image")))
    assert (problem.path, problem.line) == ("every.1.do.se_image.name", 12)
    assert "slice.1 (an unnamed se_image, hence 'se_image')" in problem.message


def test_before_places_a_scheduled_step_ahead_of_a_named_slice_step() -> None:
    recipe = parse_recipe(text(sims(), "    before: se_image\n"))
    assert recipe.every[1].before == "se_image"


def test_before_must_name_a_slice_step() -> None:
    problem = only_problem(text(sims(), "    before: overview\n"))
    assert (problem.path, problem.line) == ("every.1.before", 13)
    assert "no slice step is called 'overview'" in problem.message
    assert "(mill, se_image)" in problem.message


def test_before_is_refused_for_a_task() -> None:
    problem = only_problem(HEAD + "every: [{slices: 2, do: autofocus, before: mill}]\n")
    assert problem.path == "every.0.before"
    assert "autofocus' is a task" in problem.message


@pytest.mark.parametrize("do", ["drift", 3, ["autofocus"]])
def test_a_do_that_is_neither_task_nor_step_is_refused_with_both_forms(do: object) -> None:
    problem = only_problem(HEAD + f"every: [{{slices: 2, do: {do}}}]\n")
    assert problem.path == "every.0.do"
    assert "autofocus" in problem.message and "sims_raster" in problem.message


def test_the_schema_documents_both_forms_of_do() -> None:
    schedule = recipe_json_schema()["$defs"]["Schedule"]["properties"]["do"]
    text_ = str(schedule)
    assert "autofocus" in text_ and "sims_raster" in text_ and "'mill'" not in text_
