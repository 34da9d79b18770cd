"""Strict numbers for the wire models: what a number field accepts, on both ends.

Why not pydantic's defaults: in its lax mode a JSON ``true`` is an int (``bool`` is an ``int``
in Python), ``"1.5"`` is a float and ``2.0`` is an int, so a malformed message would be taken as
valid. Here an integer is an integer (numpy integers included, never a bool or a float), a
real is a number (never a bool or a string), and a parameter is also finite: NaN, infinities
and overflowing literals make no sense as a current, a size or a duration. Results keep
:data:`Real`, which lets a reading carry NaN (a gauge that lost its signal).
"""

from __future__ import annotations

import numbers
import operator
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field


def as_integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"must be an integer, got {value!r}")
    return operator.index(value)


def as_flag(value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"must be true or false, got {value!r}")
    return bool(value)


def as_real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{value} is too large for a 64-bit float") from None


WireInt = Annotated[int, BeforeValidator(as_integer)]
"""An integer: never a bool, never a float, however round."""

Index = Annotated[WireInt, Field(ge=0)]

Real = Annotated[float, BeforeValidator(as_real)]
"""A number, NaN and infinities included (results and readings)."""

Finite = Annotated[Real, Field(allow_inf_nan=False)]
"""A finite number: every number a client sends as a parameter."""

Duration = Annotated[Finite, Field(ge=0)]

Flag = Annotated[bool, BeforeValidator(as_flag)]
"""A boolean: never 1, never "true"."""
