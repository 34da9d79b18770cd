"""The base of every recipe model: strict about keys, immutable, numbers that are numbers."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

BOOL_FOR_NUMBER = "bool_for_number"
"""Error type for ``yes``/``no``/``on``/``off``/``true``/``false`` given where a number belongs."""


def _is_number(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_number(arg) for arg in get_args(annotation))
    if get_origin(annotation) is Literal:  # e.g. version: Literal[1]
        return any(type(arg) is int for arg in get_args(annotation))
    return annotation in (int, float)


class RecipeModel(BaseModel):
    """Unknown keys are errors (a misspelt setting must not be silently ignored), a loaded
    recipe is a record that cannot change, and a number must be a finite number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """pydantic would read ``true`` as 1; YAML 1.1 even reads ``yes`` and ``on`` as true."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and _is_number(field.annotation):
            raise PydanticCustomError(BOOL_FOR_NUMBER, "must be a number, not a yes/no value")
        return value
