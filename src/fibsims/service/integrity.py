"""The recipe a run started with, and whether ``recipe.yaml`` in its folder still says that.

Why: a resume reads ``recipe.yaml`` from the run folder. Edited in between, it would give a
run.h5 whose slices come from two different samples (a changed phantom seed), a progress of
"3/2 (150 %)" (fewer slices) or a crash at the end (another resolution). ``run.json`` keeps the
recipe's SHA-256, its text and its validated form; resume refuses an edit that changes the run
and names each changed field. An edit to comments or layout only changes nothing and passes.

``recipe.yaml`` is the file as the operator wrote it; the ``--set`` overrides the run started
with are kept in ``run.json`` (``overrides``) and applied again on every resume, so the run
goes on with the recipe it started with and the folder still says what was changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fibsims.recipe import Override, Recipe, RecipeError, parse_overrides, parse_recipe
from fibsims.service.folder import RunFolder, RunFolderError

MAX_CHANGES_SHOWN = 8


def recipe_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def recipe_record(
    text: str, recipe: Recipe, overrides: tuple[Override, ...] = ()
) -> dict[str, Any]:
    """What run.json keeps of the recipe: the file's text and hash, the ``--set`` overrides,
    and the validated recipe they make together."""
    return {
        "recipe_sha256": recipe_sha256(text),
        "recipe_text": text,
        "overrides": [override.spec for override in overrides],
        "recipe_model": recipe.model_dump(mode="json"),
    }


def changed_fields(before: Any, after: Any, path: str = "") -> list[str]:
    """Every leaf that differs between two JSON-like values, as ``path: old -> new``."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            found += changed_fields(before.get(key, "<absent>"), after.get(key, "<absent>"), where)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            change
            for i, (a, b) in enumerate(zip(before, after, strict=True))
            for change in changed_fields(a, b, f"{path}.{i}")
        ]
    return [] if before == after else [f"{path or 'the recipe'}: {before!r} -> {after!r}"]


def checked_recipe(run: RunFolder) -> Recipe:
    """The run's recipe from ``recipe.yaml``, refused if it no longer describes the run."""
    path: Path = run.layout.recipe_copy
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RunFolderError(f"{path} cannot be read ({error}); restore it") from None
    restore = "restore it (run.json keeps the original as recipe_text) and resume again"
    try:
        recipe = parse_recipe(text, str(path), parse_overrides(run.manifest.overrides))
    except RecipeError as error:
        raise RunFolderError(
            f"{path} was changed since the run started and no longer loads:\n  {error}\n{restore}"
        ) from None
    manifest = run.manifest
    if manifest.recipe_sha256 is None or manifest.recipe_sha256 == recipe_sha256(text):
        return recipe
    changes = changed_fields(manifest.recipe_model or {}, recipe.model_dump(mode="json"))
    if not changes:
        return recipe  # comments or layout only: the same run
    shown = "\n  ".join(changes[:MAX_CHANGES_SHOWN])
    more = f"\n  ... and {len(changes) - MAX_CHANGES_SHOWN} more" if len(changes) > 8 else ""
    raise RunFolderError(
        f"{path} was changed since the run started, so resuming would mix two recipes in one "
        f"run:\n  {shown}{more}\n{restore}"
    )
