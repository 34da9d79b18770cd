"""``fibsims recipe init``: a commented template that validates, never written over a file
unless asked, pointing editors at the nearest recipe schema."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.recipe import load_recipe, parse_recipe
from fibsims.recipe.template import template_text
from fibsims.service.recipe_init import schema_reference

runner = CliRunner()


def test_the_template_is_a_valid_recipe_with_comments_on_every_section() -> None:
    text = template_text(None)
    recipe = parse_recipe(text)
    assert recipe.recipe == "my-first-recipe"
    for section in ("sample:", "instrument:", "volume:", "slice:", "every:", "limits:"):
        before = text[: text.index(f"\n{section}")]
        assert before.rstrip().splitlines()[-1].startswith("#"), f"{section} has no comment"
    assert "_um micrometres" in text and "_pa" in text


def test_init_writes_the_template_and_it_validates(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    result = runner.invoke(app, ["recipe", "init", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output
    assert load_recipe(target).recipe == "my-first-recipe"
    assert runner.invoke(app, ["validate", str(target)]).exit_code == 0


def test_init_refuses_to_overwrite_a_file_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("precious: true\n")
    result = runner.invoke(app, ["recipe", "init", str(target)])
    assert result.exit_code == 2
    assert "exists and was left as it is" in result.output and "--force" in result.output
    assert target.read_text() == "precious: true\n"
    assert "Traceback" not in result.output


def test_init_with_force_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("precious: true\n")
    result = runner.invoke(app, ["recipe", "init", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert load_recipe(target).version == 1


def test_init_into_a_folder_or_a_missing_folder_says_what_to_give(tmp_path: Path) -> None:
    result = runner.invoke(app, ["recipe", "init", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output
    result = runner.invoke(app, ["recipe", "init", str(tmp_path / "no" / "r.yaml")])
    assert result.exit_code == 2 and "create it first" in result.output


def test_the_modeline_points_to_the_nearest_schema_relative_to_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "recipe.schema.json").write_text("{}")
    (tmp_path / "recipes").mkdir()
    target = tmp_path / "recipes" / "new.yaml"
    assert schema_reference(target) == "../docs/recipe.schema.json"
    assert runner.invoke(app, ["recipe", "init", str(target)]).exit_code == 0
    first = target.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../docs/recipe.schema.json"


def test_without_a_schema_nearby_init_says_how_to_get_one(tmp_path: Path) -> None:
    target = tmp_path / "r.yaml"
    if schema_reference(target) is not None:  # a schema in a folder above the test's tmp
        return
    result = runner.invoke(app, ["recipe", "init", str(target)])
    assert "fibsims schema > recipe.schema.json" in result.output
    assert not target.read_text().startswith("# yaml-language-server")


def test_init_force_never_replaces_what_is_not_a_regular_file(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"  # as /dev/null would be: a device, pipe or socket
    os.mkfifo(pipe)
    result = runner.invoke(app, ["recipe", "init", str(pipe), "--force"])
    assert result.exit_code == 2, result.output
    assert f"{pipe} is not a regular file" in result.output
    assert stat.S_ISFIFO(pipe.lstat().st_mode), "left as it was"
