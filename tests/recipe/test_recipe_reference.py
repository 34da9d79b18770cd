"""docs/recipes.md and docs/recipe.schema.json are what the models make: they cannot drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fibsims.recipe import STEP_TYPES, recipe_json_schema
from fibsims.recipe.reference import (
    BEGIN,
    END,
    main,
    page_with_reference,
    reference_markdown,
    schema_text,
    unit,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FIX = "run `python -m fibsims.recipe.reference` and commit docs/"


def test_the_committed_reference_is_what_the_models_make() -> None:
    page = (DOCS / "recipes.md").read_text(encoding="utf-8")
    assert page == page_with_reference(page), f"docs/recipes.md is out of date: {FIX}"


def test_the_committed_schema_is_what_the_models_make() -> None:
    committed = (DOCS / "recipe.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), f"docs/recipe.schema.json is out of date: {FIX}"
    assert json.loads(committed) == recipe_json_schema()


def test_the_check_mode_fails_on_a_stale_file_and_rewriting_fixes_it(tmp_path: Path) -> None:
    for name in ("recipes.md", "recipe.schema.json"):
        (tmp_path / name).write_text((DOCS / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["--check"], tmp_path) == 0
    (tmp_path / "recipe.schema.json").write_text("{}", encoding="utf-8")
    page = (tmp_path / "recipes.md").read_text(encoding="utf-8")
    (tmp_path / "recipes.md").write_text(page.replace("| `dwell_us` |", "| `dwell` |"))
    assert main(["--check"], tmp_path) == 1
    assert main([], tmp_path) == 0 and main(["--check"], tmp_path) == 0


def test_a_page_without_markers_is_refused_not_overwritten() -> None:
    with pytest.raises(ValueError, match="markers"):
        page_with_reference("# a page\n")


def test_every_field_of_every_step_is_in_the_reference_with_its_unit() -> None:
    text = reference_markdown()
    for kind, model in STEP_TYPES.items():
        assert f"### `slice: - {kind}`" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text
    assert "| `current_pa` | number | pA |" in text
    assert "| `dwell_us` | number | us |" in text


def test_units_come_from_the_field_names() -> None:
    assert [unit(n) for n in ("current_pa", "max_pa", "depth_um", "voltage_kv", "frames")] == [
        "pA",
        "Pa",
        "um",
        "kV",
        "",
    ]


def test_the_page_keeps_its_hand_written_introduction() -> None:
    page = (DOCS / "recipes.md").read_text(encoding="utf-8")
    intro = page.split(BEGIN)[0]
    for heading in ("## How a recipe reads", "## Naming steps", "## Schedules: every N slices"):
        assert heading in intro
    assert page.rstrip().endswith(END)


def test_every_example_recipe_points_editors_at_the_published_schema() -> None:
    for recipe in sorted((ROOT / "recipes").glob("*.yaml")):
        first = recipe.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/recipe.schema.json", recipe
        assert (recipe.parent / "../docs/recipe.schema.json").resolve().is_file()
