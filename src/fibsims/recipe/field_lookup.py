"""Find the model and the field behind an error location, to word the error for a person.

A pydantic error location such as ``("slice", 0, "mill", "current_na")`` is walked down the
recipe's type annotations: model fields, list and tuple items, optional values, and the step
union (whose location part is the step kind). The field's description (which carries the unit)
and the model's field names (the allowed keys) come from what the walk finds.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from fibsims.recipe.models import Recipe

Loc = tuple[str | int, ...]


def _strip(annotation: Any) -> Any:
    """Drop ``Annotated`` metadata and ``None`` from optionals; keep real unions."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _step(annotation: Any, part: str | int) -> tuple[Any, FieldInfo | None]:
    """The annotation one location part further down, and the field it named (if any)."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        return (field.annotation, field) if field is not None else (None, None)
    if origin in (Union, types.UnionType):  # the step union: the part is the step kind
        for arg in get_args(annotation):
            choice = _strip(arg)
            if _is_model(choice) and getattr(choice, "kind", None) == part:
                return choice, None
        return None, None
    if origin is list:
        return get_args(annotation)[0], None
    if origin is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0], None
        if isinstance(part, int) and 0 <= part < len(args):
            return args[part], None
    return None, None


def _walk(loc: Loc) -> tuple[Any, FieldInfo | None]:
    annotation: Any = Recipe
    last_field: FieldInfo | None = None
    for part in loc:
        annotation, field = _step(annotation, part)
        if field is not None or not isinstance(part, int):  # list items share their list's
            last_field = field
        if annotation is None:
            return None, None
    return annotation, last_field


def model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose settings sit at ``loc`` (``()`` is the recipe itself), if any."""
    annotation = _strip(_walk(loc)[0])
    return annotation if _is_model(annotation) else None


def description_at(loc: Loc) -> str | None:
    """Description of the field at ``loc``; for a list or tuple item, that of the list."""
    field = _walk(loc)[1]
    return field.description if field is not None else None
