"""Free-form JSON objects on the wire: a simulated sample's physical state.

Why a check of its own rather than ``dict[str, Any]``: the state travels both ways, as the
result of ``truth.sample_state`` and back as the ``sample_state`` parameter of
``session.open`` when a run resumes, so it must obey the parameters' rule (every number
finite) and come out of the wire as the same plain JSON types it went in as. The check walks
the value without recursion, so a pathologically nested value is refused with a message
instead of a ``RecursionError``; nesting is bounded well below what the JSON encoders on
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


def plain_json(value: Any) -> Any:
    """A copy of ``value`` made of dict, list, str, int, float, bool and None only.

    Tuples become lists and numpy scalars Python numbers; anything else (a set, an array, a
    non-string key, a NaN or an infinity, nesting beyond :data:`MAX_DEPTH`) raises
    ``ValueError`` naming where it is."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, tuple[str | int, ...]]] = [(value, root, 0, ())]
    while stack:
        item, parent, key, path = stack.pop()
        parent[key] = _leaf_or_container(item, path, stack)
    return root[0]


def _leaf_or_container(item: Any, path: tuple[str | int, ...], stack: list[Any]) -> Any:
    if item is None or isinstance(item, str | bool):
        return item
    if isinstance(item, np.bool_):
        return bool(item)
    if isinstance(item, numbers.Integral):
        return operator.index(item)
    if isinstance(item, numbers.Real):
        number = float(item)
        if not math.isfinite(number):
            raise ValueError(f"{_where(path)} is {number}; carried JSON numbers must be finite")
        return number
    if isinstance(item, Mapping | list | tuple) and len(path) >= MAX_DEPTH:
        raise ValueError(f"{_where(path[:4])}... nests objects and arrays deeper than {MAX_DEPTH}")
    if isinstance(item, Mapping):
        out: dict[str, Any] = {}
        for name, child in item.items():
            if not isinstance(name, str):
                raise ValueError(f"{_where(path)} has the key {name!r}; JSON keys are strings")
            out[name] = None
            stack.append((child, out, name, (*path, name)))
        return out
    if isinstance(item, list | tuple):
        items: list[Any] = [None] * len(item)
        stack.extend((child, items, i, (*path, i)) for i, child in enumerate(item))
        return items
    raise ValueError(f"{_where(path)} is a {type(item).__name__}, which is not a JSON value")


def as_json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a JSON object, got {type(value).__name__}")
    result: dict[str, Any] = plain_json(value)
    return result


JsonObject = Annotated[dict[str, Any], BeforeValidator(as_json_object)]
"""A JSON object of finite numbers, at most :data:`MAX_DEPTH` deep."""

OptionalJsonObject = JsonObject | None
"""A :data:`JsonObject` or null."""
