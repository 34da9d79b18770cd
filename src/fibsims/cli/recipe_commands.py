"""``fibsims validate``, ``fibsims schema`` and ``fibsims recipe init``: plain functions the app
wraps.

They return the exit code instead of exiting, so they are easy to test and to register.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from fibsims.recipe import (
    Recipe,
    RecipeError,
    describe,
    load_recipe,
    parse_overrides,
    recipe_json_schema,
)
from fibsims.recipe.template import SCHEMA_MODELINE
from fibsims.service.recipe_init import RecipeInitError, init_recipe
from fibsims.service.recipe_validation import check_recipes

EXIT_OK = 0
EXIT_INVALID = 2


def _console() -> Console:
    # Plain text: no markup (messages contain brackets), no highlighting, no wrapping, so the
    # output reads the same in a terminal, a pipe or a CI log.
    return Console(highlight=False, markup=False, emoji=False, soft_wrap=True)


def validate(
    recipes: list[Path],
    overrides: Sequence[str] = (),
    *,
    preflight: bool = False,
    instrument: str = "sim",
) -> int:
    """Check each recipe file (with ``overrides``, ``--set``, applied); print ``ok`` with a
    summary and the estimate line, or ``FAIL`` with every problem. With ``preflight``, also
    check each recipe against the instrument (its currents, scans, time limit, the disk) and
    print the warnings, as ``run`` would before anything moves.

    Returns 0 when every file is valid (and passes preflight when asked), 2 otherwise (or
    when no file was given).
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
            continue
        report = _instrument_report(path, recipe, instrument)
        lines, passed = _instrument_lines(report, preflight, instrument)
        console.print(f"{'ok  ' if passed else 'FAIL'} {path}: {describe(recipe)}")
        for line in lines:
            console.print(f"  {line}")
        all_valid &= passed
    return EXIT_OK if all_valid else EXIT_INVALID


def validate_json(
    recipes: list[Path],
    overrides: Sequence[str] = (),
    *,
    preflight: bool = False,
    instrument: str = "sim",
) -> int:
    """Print one JSON document for all ``recipes`` (:func:`check_recipes`), each valid one
    with its ``estimate`` (and with ``preflight`` its ``preflight``: ok, problems, warnings);
    0 when every one is valid (and passes preflight when asked), 2 otherwise."""
    document = check_recipes(recipes, overrides)
    for record in document["recipes"]:
        if not record["ok"]:
            continue
        recipe = load_recipe(Path(record["path"]), parse_overrides(overrides))
        report = _instrument_report(Path(record["path"]), recipe, instrument)
        if isinstance(report, str):
            record["estimate"] = None
            record["estimate_unavailable"] = report
            record["ok"] = not preflight
            continue
        record["estimate"] = report.estimate
        if preflight:
            record["preflight"] = {
                "instrument": instrument,
                "ok": report.ok,
                "problems": report.problems,
                "warnings": report.warnings,
            }
            record["ok"] = report.ok
    document["ok"] = bool(document["recipes"]) and all(r["ok"] for r in document["recipes"])
    print(json.dumps(document, indent=2))
    return EXIT_OK if document["ok"] else EXIT_INVALID


def _instrument_report(path: Path, recipe: Recipe, instrument: str) -> Any:
    """The recipe's preflight on ``instrument`` (estimate included), or why there is none."""
    from fibsims.service.estimate import (  # opens a backend: imported only when used
        EstimateError,
        EstimateRequest,
        preflight_recipe,
    )

    try:
        return preflight_recipe(EstimateRequest(path, instrument), recipe)
    except EstimateError as error:
        return str(error)


def _instrument_lines(report: Any, preflight: bool, instrument: str) -> tuple[list[str], bool]:
    """The estimate line (and with ``preflight`` the problems and warnings), and whether the
    recipe passed. An instrument that cannot be opened fails only a preflight."""
    from fibsims.service.estimate import estimate_line

    if isinstance(report, str):
        return [f"estimate: not available ({report})"], not preflight
    lines = [estimate_line(report.estimate)]
    if not preflight:
        return lines, True
    lines += [f"problem: {p}" for p in report.problems]
    lines += [f"warning: {w}" for w in report.warnings]
    if report.ok:
        lines.append(f"preflight passed on {instrument!r}")
    return lines, report.ok


def schema() -> int:
    """Print the JSON Schema of recipe files (indent 2), for editors; returns 0."""
    print(json.dumps(recipe_json_schema(), indent=2))
    return EXIT_OK


def init(path: Path, force: bool) -> int:
    """Write the commented template recipe to ``path``; 2 (and nothing written) if it exists
    and ``force`` is not given, or it cannot be written."""
    console = _console()
    try:
        result = init_recipe(path, force)
    except RecipeInitError as error:
        console.print(f"not written: {error}")
        return EXIT_INVALID
    console.print(f"wrote {result.path}: edit it, then `fibsims validate {result.path}`")
    if result.schema is None:
        console.print(
            "for checking and completion in your editor: `fibsims schema > recipe.schema.json` "
            f"beside it, and a first line '{SCHEMA_MODELINE.format(schema='recipe.schema.json')}'"
        )
    return EXIT_OK
