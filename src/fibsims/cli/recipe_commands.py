"""``fibsims recipe validate`` and ``fibsims recipe schema``: plain functions the app wraps.

They return the exit code instead of exiting, so they are easy to test and to register.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from fibsims.recipe import RecipeError, describe, load_recipe, recipe_json_schema

EXIT_OK = 0
EXIT_INVALID = 2


def _console() -> Console:
    # Plain text: no markup (messages contain brackets), no highlighting, no wrapping, so the
    # output reads the same in a terminal, a pipe or a CI log.
    return Console(highlight=False, markup=False, emoji=False, soft_wrap=True)


def validate(recipes: list[Path]) -> int:
    """Check each recipe file; print ``ok`` with a summary or ``FAIL`` with every problem.

    Returns 0 when every file is valid, 2 otherwise (or when no file was given).
    """
    console = _console()
    if not recipes:
        console.print("no recipe files given")
        return EXIT_INVALID
    all_valid = True
    for path in recipes:
        try:
            recipe = load_recipe(path)
        except RecipeError as exc:
            all_valid = False
            console.print(f"FAIL {path}")
            for problem in exc.problems:
                console.print(f"  {problem}")
        else:
            console.print(f"ok   {path}: {describe(recipe)}")
    return EXIT_OK if all_valid else EXIT_INVALID


def schema() -> int:
    """Print the JSON Schema of recipe files (indent 2), for editors; returns 0."""
    print(json.dumps(recipe_json_schema(), indent=2))
    return EXIT_OK
