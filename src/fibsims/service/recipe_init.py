"""``fibsims recipe init``: write the commented template recipe, never over a file by accident.

The template's first line points editors at the recipe JSON Schema when one can be found: the
repository's ``docs/recipe.schema.json`` (or a ``recipe.schema.json``) in the recipe's folder or
any folder above it, as a relative path, so the recipe and the schema move together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fibsims.data.atomic import write_atomic
from fibsims.recipe.template import template_text

SCHEMA_FILES = ("docs/recipe.schema.json", "recipe.schema.json")
"""Where a schema is looked for, in each folder from the recipe's up to the root."""


class RecipeInitError(Exception):
    """The template could not be written; the message says why and what to do."""


@dataclass(frozen=True)
class InitResult:
    path: Path
    schema: str | None
    """The schema the recipe's first line points to (relative to it), or None if none found."""


def schema_reference(recipe: Path) -> str | None:
    """The nearest schema file, relative to ``recipe``'s folder (``/``-separated), or None."""
    folder = recipe.resolve().parent
    for parent in (folder, *folder.parents):
        for name in SCHEMA_FILES:
            if (parent / name).is_file():
                return Path(os.path.relpath(parent / name, folder)).as_posix()
    return None


def init_recipe(path: Path, force: bool = False) -> InitResult:
    """Write the template to ``path``; refuse an existing file unless ``force``."""
    path = Path(path)
    if path.is_dir():
        raise RecipeInitError(
            f"{path} is a folder: give the recipe's file name, e.g. {path / 'recipe.yaml'}"
        )
    if path.exists() and not path.is_file():  # --force replaces a file, never /dev/null
        raise RecipeInitError(
            f"{path} is not a regular file (a device, pipe or socket) and was left as it is: "
            "give the recipe's file name"
        )
    if path.exists() and not force:
        raise RecipeInitError(
            f"{path} exists and was left as it is: give another file name, or add --force to "
            "replace it with the template"
        )
    if not path.parent.is_dir():
        raise RecipeInitError(f"{path.parent} is not a folder: create it first")
    schema = schema_reference(path)
    text = template_text(schema)
    try:
        if force:
            write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        else:  # exclusive creation: a file that appeared since the check is not replaced
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text)
    except FileExistsError:
        raise RecipeInitError(f"{path} appeared meanwhile and was left as it is") from None
    except OSError as error:
        raise RecipeInitError(f"could not write {path}: {error.strerror or error}") from None
    return InitResult(path, schema)
