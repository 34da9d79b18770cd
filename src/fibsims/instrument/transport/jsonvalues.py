"""Free-form JSON objects on the wire: a simulated sample's physical state.

Why a check of its own rather than ``dict[str, Any]``: the state travels both ways, as the
result of ``truth.sample_state`` and back as the ``sample_state`` parameter of
``session.open`` when a run resumes, so it must obey the parameters' rule (every number
finite) and come out of the wire as the same plain JSON types it went in as. The check stops
at :data:`MAX_DEPTH` before it descends, so a pathologically nested value is refused with a
message instead of a ``RecursionError``; nesting is bounded well below what the JSON encoders on
either end accept. Its size is bounded by the header limit of the message that carries it.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays a carried JSON value may have."""


def _where(path: tuple[str | int, ...]) -> str:
    if not path:
        return "the value"
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def plain_json(value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """A copy of ``value`` made of dict, list, str, int, float, bool and None only.

    Tuples become lists and numpy scalars Python numbers; anything else (a set, an array, a
    non-string key, a NaN or an infinity, nesting beyond :data:`MAX_DEPTH`) raises
    ``ValueError`` naming where it is. The depth is checked before each descent, so the
    recursion stays :data:`MAX_DEPTH` deep however deep the value."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(number := float(value)):
            raise ValueError(f"{_where(path)} is {number}; carried JSON numbers must be finite")
        return number
    if isinstance(value, Mapping | list | tuple) and len(path) >= MAX_DEPTH:
        raise ValueError(f"{_where(path[:4])}... nests objects and arrays deeper than {MAX_DEPTH}")
    if isinstance(value, list | tuple):
        return [plain_json(child, (*path, i)) for i, child in enumerate(value)]
    if not isinstance(value, Mapping):
        raise ValueError(f"{_where(path)} is a {type(value).__name__}, which is not a JSON value")
    for name in value:
        if not isinstance(name, str):
            raise ValueError(f"{_where(path)} has the key {name!r}; JSON keys are strings")
    return {name: plain_json(child, (*path, name)) for name, child in value.items()}


def as_json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a JSON object, got {type(value).__name__}")
    result: dict[str, Any] = plain_json(value)
    return result


JsonObject = Annotated[dict[str, Any], BeforeValidator(as_json_object)]
"""A JSON object of finite numbers, at most :data:`MAX_DEPTH` deep."""

OptionalJsonObject = JsonObject | None
"""A :data:`JsonObject` or null."""
