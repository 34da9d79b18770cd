"""``fibsims validate --json``: one JSON document saying, for every recipe given, whether it is
valid, what it plans, and every problem with its field and line.

Why a service: the per-recipe record is the place other checks join (an ``estimate`` of the
instrument time, a ``preflight`` against a backend) without the command changing; they add
keys to :func:`check_recipe`'s record. The keys here are stable: ``path``, ``ok``, ``recipe``,
``overrides``, ``summary`` and ``problems`` (each ``{field, line, message}``, plus ``origin``
when the value came from ``--set``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fibsims.recipe import Override, Recipe, RecipeError, describe, load_recipe, parse_overrides


def recipe_summary(recipe: Recipe) -> dict[str, Any]:
    """What a valid recipe plans, in numbers with their units in the keys."""
    volume = recipe.volume
    return {
        "description": describe(recipe),
        "sample": recipe.sample.name,
        "slices": volume.slices,
        "slice_thickness_nm": volume.slice_thickness_nm,
        "depth_um": round(volume.slices * volume.slice_thickness_nm / 1000.0, 6),
        "face_width_um": volume.face_width_um,
        "face_height_um": volume.face_height_um,
        "steps": [step.kind for step in recipe.slice],
        "every": [{"do": s.kind, "slices": s.slices, "offset": s.offset} for s in recipe.every],
        "fiducial": recipe.fiducial is not None,
        "max_hours": recipe.limits.max_hours,
    }


def _problems(error: RecipeError) -> list[dict[str, Any]]:
    found = []
    for problem in error.problems:
        record: dict[str, Any] = {
            "field": problem.path,
            "line": problem.line,
            "message": problem.message,
        }
        if problem.origin is not None:
            record["origin"] = problem.origin
        found.append(record)
    return found


def check_recipe(path: Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The validation record of one recipe file with ``overrides`` (``--set``) applied."""
    record: dict[str, Any] = {
        "path": str(path),
        "ok": False,
        "recipe": None,
        "overrides": list(overrides),
        "summary": None,
        "problems": [],
    }
    try:
        parsed: tuple[Override, ...] = parse_overrides(overrides)
        recipe = load_recipe(path, parsed)
    except RecipeError as error:
        record["problems"] = _problems(error)
        return record
    record.update(ok=True, recipe=recipe.recipe, summary=recipe_summary(recipe))
    return record


def check_recipes(paths: Sequence[Path], overrides: Sequence[str] = ()) -> dict[str, Any]:
    """``{"ok": every recipe valid, "recipes": [check_recipe(path), ...]}``."""
    records = [check_recipe(path, overrides) for path in paths]
    return {"ok": bool(records) and all(r["ok"] for r in records), "recipes": records}
