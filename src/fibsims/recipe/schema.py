"""The JSON Schema of the recipe's YAML form, for editors that validate YAML as you type."""

from __future__ import annotations

from typing import Any

from fibsims.recipe.models import Recipe

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def recipe_json_schema() -> dict[str, Any]:
    """JSON Schema of a recipe file as written (slice items as ``{kind: settings}`` mappings).

    Point an editor at it, e.g. with a first line ``# yaml-language-server: $schema=<file>``
    for the YAML language server, after saving the output of ``fibsims recipe schema``.
    """
    schema = Recipe.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "fibsims recipe, version 1"}
