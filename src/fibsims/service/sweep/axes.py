"""The varied values of a sweep: ``--vary PATH=V1,V2,...`` and the path shorthand.

A value list is split at its top-level commas (``resolution=[64,48],[128,96]`` is two values)
and every value is read exactly as ``--set`` reads one (YAML, with the recipe loader's input
limits: :func:`fibsims.recipe.parse_overrides`), so ``5``, ``2.5``, ``true`` and ``[64, 48]``
mean what they mean in ``--set``.

A path is either a full recipe path as the error messages name fields
(``slice.3.sims_raster.frames``, ``volume.slices``), or a shorthand whose first part names a
step of ``slice:`` by its kind or its ``name:`` (``sims_raster.frames``: the ``frames`` of the one
``sims_raster`` step). A shorthand that fits no step, or more than one, is refused naming the
full paths to choose from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fibsims.recipe import STEP_TYPES, Recipe, RecipeError, parse_overrides

MAX_VALUES_PER_AXIS = 1000


class SweepInputError(Exception):
    """A sweep that cannot be run as asked; the message names the input and the fix. Nothing
    was run."""


@dataclass(frozen=True)
class Axis:
    """One varied path: as given on the command line, as the recipe spells it, and its values
    (each with the text it was given as, which ``--set`` records)."""

    given: str
    path: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


def split_values(text: str) -> list[str]:
    """``5,10,20`` -> three texts; commas inside ``[]``, ``{}`` or quotes do not split."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def parse_value(path: str, text: str) -> Any:
    """``text`` read as ``--set path=text`` reads it; :class:`SweepInputError` if it is no
    YAML value."""
    try:
        (override,) = parse_overrides([f"{path}={text}"])
    except RecipeError as error:
        raise SweepInputError(
            f"--vary {path}: the value {text!r} cannot be read: "
            + "; ".join(p.message for p in error.problems)
        ) from None
    return override.value


def parse_vary(spec: str) -> tuple[str, list[str]]:
    """``PATH=V1,V2`` -> the path and the value texts; refused naming the expected form."""
    form = "give it as PATH=V1,V2,..., e.g. --vary sims_raster.frames=5,10,20"
    if "=" not in spec:
        raise SweepInputError(f"--vary {spec!r}: no '='; {form}")
    path, _, values = spec.partition("=")
    path = path.strip()
    if not path or any(not part.strip() for part in path.split(".")):
        raise SweepInputError(f"--vary {spec!r}: the path {path!r} has an empty part; {form}")
    texts = split_values(values)
    if not values.strip() or any(not t for t in texts):
        raise SweepInputError(f"--vary {spec!r}: an empty value in the list; {form}")
    if len(texts) > MAX_VALUES_PER_AXIS:
        raise SweepInputError(
            f"--vary {path}: {len(texts)} values; at most {MAX_VALUES_PER_AXIS} per path"
        )
    if len(set(texts)) != len(texts):
        repeated = sorted({t for t in texts if texts.count(t) > 1})
        raise SweepInputError(f"--vary {path}: the value {repeated[0]!r} is given twice")
    return path, texts


def resolve_path(given: str, data: Mapping[str, Any]) -> str:
    """The recipe path that ``given`` (full or shorthand) names in the recipe ``data`` (the
    base's YAML data, ``--set`` applied)."""
    head, _, rest = given.partition(".")
    if head in Recipe.model_fields:
        return given
    steps = data.get("slice") if isinstance(data, Mapping) else None
    steps = steps if isinstance(steps, list) else []
    found: list[tuple[int, str]] = []
    for index, step in enumerate(steps):
        if not (isinstance(step, Mapping) and len(step) == 1):
            continue
        ((kind, settings),) = step.items()
        name = settings.get("name") if isinstance(settings, Mapping) else None
        if head in (kind, name):
            found.append((index, str(kind)))
    if len(found) == 1 and rest:
        index, kind = found[0]
        return f"slice.{index}.{kind}.{rest}"
    if len(found) > 1:
        choices = " or ".join(f"slice.{i}.{kind}.{rest or 'FIELD'}" for i, kind in found)
        raise SweepInputError(
            f"{given}: the recipe's slice: has {len(found)} {head} steps "
            f"(slice.{', slice.'.join(str(i) for i, _ in found)}); name one by its full path: "
            f"{choices}"
        )
    if found:
        raise SweepInputError(
            f"{given}: give a field of the {head} step, e.g. {head}.frames "
            f"(or the full path slice.{found[0][0]}.{found[0][1]}.FIELD)"
        )
    kinds = [next(iter(s)) for s in steps if isinstance(s, Mapping) and len(s) == 1]
    what = f"a step kind of slice: ({', '.join(kinds)})" if kinds else "a step of slice:"
    if head in STEP_TYPES:
        raise SweepInputError(
            f"{given}: the recipe's slice: has no {head} step (its steps: "
            f"{', '.join(kinds) or 'none'}); vary a step it has"
        )
    raise SweepInputError(
        f"{given}: {head!r} is neither a recipe field ({', '.join(Recipe.model_fields)}) nor "
        f"{what}; e.g. sims_raster.frames or slice.3.sims_raster.frames"
    )


def make_axis(spec: str, data: Mapping[str, Any]) -> Axis:
    """One ``--vary`` spec, its path resolved against the base recipe's ``data``."""
    given, texts = parse_vary(spec)
    path = resolve_path(given, data)
    values = tuple(parse_value(path, text) for text in texts)
    return Axis(given, path, tuple(texts), values)
