"""``fibsims recipe validate`` and ``fibsims recipe schema``: plain functions the app wraps.

They return the exit code instead of exiting, so they are easy to test and to register.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from fibsims.recipe import (
    RecipeError,
    describe,
    load_recipe,
    parse_overrides,
    recipe_json_schema,
)
from fibsims.service.recipe_check import check_recipes

EXIT_OK = 0
EXIT_INVALID = 2


def _console() -> Console:
    # Plain text: no markup (messages contain brackets), no highlighting, no wrapping, so the
    # output reads the same in a terminal, a pipe or a CI log.
    return Console(highlight=False, markup=False, emoji=False, soft_wrap=True)


def validate(recipes: list[Path], overrides: Sequence[str] = ()) -> int:
    """Check each recipe file (with ``overrides``, ``--set``, applied); print ``ok`` with a
    summary or ``FAIL`` with every problem.

    Returns 0 when every file is valid, 2 otherwise (or when no file was given).
    """
    console = _console()
    if not recipes:
        console.print("no recipe files given")
        return EXIT_INVALID
    try:
        parsed = parse_overrides(overrides)
    except RecipeError as exc:
        console.print(f"FAIL {exc.source}")
        for problem in exc.problems:
            console.print(f"  {problem}")
        return EXIT_INVALID
    all_valid = True
    for path in recipes:
        try:
            recipe = load_recipe(path, parsed)
        except RecipeError as exc:
            all_valid = False
            console.print(f"FAIL {path}")
            for problem in exc.problems:
                console.print(f"  {problem}")
        else:
            console.print(f"ok   {path}: {describe(recipe)}")
    return EXIT_OK if all_valid else EXIT_INVALID


def validate_json(recipes: list[Path], overrides: Sequence[str] = ()) -> int:
    """Print one JSON document for all ``recipes`` (:func:`check_recipes`); 0 when every one
    is valid, 2 otherwise."""
    document = check_recipes(recipes, overrides)
    print(json.dumps(document, indent=2))
    return EXIT_OK if document["ok"] else EXIT_INVALID


def schema() -> int:
    """Print the JSON Schema of recipe files (indent 2), for editors; returns 0."""
    print(json.dumps(recipe_json_schema(), indent=2))
    return EXIT_OK
