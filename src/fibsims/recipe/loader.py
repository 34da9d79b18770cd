"""Load a recipe from YAML, reporting every problem with its field path and line number."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError

from fibsims.recipe.errors import Problem, RecipeError
from fibsims.recipe.messages import show, translate
from fibsims.recipe.models import Recipe
from fibsims.recipe.overrides import Override, apply_overrides, mark_overridden
from fibsims.recipe.source_file import read_recipe_text
from fibsims.recipe.yaml_source import YamlDocument, read_yaml


def load_recipe(path: str | Path, overrides: Sequence[Override] = ()) -> Recipe:
    """Read and validate the recipe file at ``path`` with ``overrides`` (``--set``) applied;
    raise ``RecipeError`` if it is unusable."""
    return parse_recipe(read_recipe_text(path), str(path), overrides)


def parse_recipe(text: str, source: str = "<string>", overrides: Sequence[Override] = ()) -> Recipe:
    """Validate recipe YAML ``text`` with ``overrides`` applied to its data first
    (:mod:`fibsims.recipe.overrides`); ``source`` names it in errors (usually the file path)."""
    document = read_yaml(text, source)
    if not isinstance(document.data, Mapping):
        message = (
            "the top level must be a mapping of recipe fields ('recipe: ...', 'version: 1', "
            f"...), got {_kind_of(document.data)} {show(document.data)}"
        )
        raise RecipeError(source, [Problem("", document.line_of(()), message)])
    data = document.data
    if overrides:
        data, unapplied = apply_overrides(data, overrides)
        if unapplied:
            raise RecipeError(source, unapplied)
    problems = list(document.duplicates)
    recipe: Recipe | None = None
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        problems.extend(mark_overridden(_problems(exc, document), overrides))
    if problems or recipe is None:
        raise RecipeError(source, sorted(problems, key=lambda p: p.line or 0))
    return recipe


def _problems(exc: ValidationError, document: YamlDocument) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc, message = translate(error)
        path = ".".join(str(part) for part in loc)
        problems.append(Problem(path, document.line_of(loc), message))
    return problems


def _kind_of(data: object) -> str:
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "text"
    return "a single value"
