"""Turn pydantic's validation errors into messages for an instrument scientist.

Each message says what is wrong, the value received, and what is allowed; where the field has a
description (which carries its unit) it is appended, e.g. ``must be greater than 0 (got -15);
a beam current in nA``. Error types without a translation keep pydantic's own text.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import ErrorDetails

from fibsims.recipe.base import BOOL_FOR_NUMBER
from fibsims.recipe.field_lookup import Loc, description_at, model_at
from fibsims.recipe.rules import RULE_ERROR
from fibsims.recipe.schedule import SCHEDULABLE_STEPS, SCHEDULED_WORK_ERROR, TASKS
from fibsims.recipe.steps import STEP_TYPES

ALLOWED_STEPS = ", ".join(STEP_TYPES)
_OWN_ERRORS = {"peaks_repeated", "peak_polarity", "step_name_reserved"}


def translate(error: ErrorDetails) -> tuple[Loc, str]:
    """The location an error is about (possibly deeper than pydantic's) and its message."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind == RULE_ERROR:
        at = str(ctx.get("at", ""))
        return (*loc, *(int(p) if p.isdigit() else p for p in at.split(".") if p)), ctx["message"]
    if kind == "slice_step_kind":
        return _slice_item(loc, value)
    if kind == SCHEDULED_WORK_ERROR:
        return _scheduled_work(loc, value)
    if kind == "extra_forbidden":
        return loc, _unknown_field(loc)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, _not_a_mapping(loc, value)
    describe = _VALUE_ERRORS.get(kind)
    if describe is None:
        message = str(error["msg"]).removeprefix("Value error, ")
        if kind in _OWN_ERRORS:  # the step models' own checks already say it all
            return loc, message
        return loc, f"{_lower_first(message)} (got {show(value)})"
    message = describe(ctx, value, loc)
    description = description_at(loc)
    return loc, f"{message}; {description}" if description else message


def show(value: Any) -> str:
    """A received value as a person would write it in the YAML file."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # a bound of 0.0 reads as 0, as the scientist wrote it
    if isinstance(value, int | float):
        return str(value)
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _did_you_mean(word: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _unknown_field(loc: Loc) -> str:
    model = model_at(loc[:-1])
    if model is None:
        return "unknown field"
    allowed = list(model.model_fields)
    return f"unknown field; allowed: {', '.join(allowed)}" + _did_you_mean(str(loc[-1]), allowed)


def _required(loc: Loc) -> str:
    model = model_at(loc)
    if model is None:
        return ""
    names = [name for name, field in model.model_fields.items() if field.is_required()]
    return f"; it needs at least {', '.join(names)}" if names else ""


def _not_a_mapping(loc: Loc, value: Any) -> str:
    return f"must be a mapping of settings, 'name: value' (got {show(value)})" + _required(loc)


def _slice_item(loc: Loc, value: Any) -> tuple[Loc, str]:
    """Why a slice item is not one step (``{kind: settings}``), and the fix."""
    example = "'- mill: {current_na: 15, depth_um: 18}'"
    if isinstance(value, Mapping):
        keys = [str(key) for key in value]
        if len(keys) == 1:
            return (*loc, keys[0]), (
                f"unknown step kind; allowed: {ALLOWED_STEPS}"
                + _did_you_mean(keys[0], list(STEP_TYPES))
            )
        if not keys:
            return loc, f"an empty step; give one step kind with its settings: {ALLOWED_STEPS}"
        kinds = [key for key in keys if key in STEP_TYPES]
        others = [key for key in keys if key not in STEP_TYPES]
        if len(kinds) == 1 and value[kinds[0]] is None:
            return loc, (
                f"has keys {', '.join(keys)}: indent {', '.join(others)} under '{kinds[0]}:' "
                f"(each slice item is one step, its settings nested below it)"
            )
        return loc, (
            f"has {len(keys)} keys ({', '.join(keys)}) but a slice item is exactly one step; "
            f"put each step in its own '- kind: ...' item; allowed kinds: {ALLOWED_STEPS}"
        )
    if isinstance(value, str) and value in STEP_TYPES:
        return loc, (
            f"'{value}' needs its settings as a mapping, '- {value}: {{...}}'"
            + _required((*loc, value))
        )
    return loc, (
        f"must be one step, a mapping like {example} (got {show(value)}); "
        f"allowed kinds: {ALLOWED_STEPS}"
    )


def _scheduled_work(loc: Loc, value: Any) -> tuple[Loc, str]:
    """Why a schedule's ``do:`` is neither a task nor one schedulable step, and the fix."""
    tasks, steps = ", ".join(TASKS), ", ".join(SCHEDULABLE_STEPS)
    example = "'do: {sims_raster: {current_pa: 300, ...}}'"
    if isinstance(value, Mapping) and len(value) == 1:
        (key,) = (str(k) for k in value)
        if key == "mill":
            return (*loc, key), (
                "a mill cannot be scheduled: every slice runs exactly one mill, the one in "
                f"slice:; a schedule runs a task ({tasks}) or a step ({steps})"
            )
        return (*loc, key), (
            f"unknown step kind; a schedule runs a step ({steps}) or a task ({tasks})"
            + _did_you_mean(key, [*SCHEDULABLE_STEPS, *TASKS])
        )
    if isinstance(value, str):
        if value in SCHEDULABLE_STEPS:
            return loc, f"'{value}' needs its settings: 'do: {{{value}: {{...}}}}'" + _required(
                (*loc, value)
            )
        quoted = " or ".join(repr(task) for task in TASKS)
        return loc, (
            f"must be {quoted} (got {show(value)}), or one step as in slice:, like {example}"
            + _did_you_mean(value, list(TASKS))
        )
    return loc, (
        f"must be a task ({tasks}) or one step as a one-key mapping like {example} "
        f"(got {show(value)}); steps: {steps}"
    )


def _missing(ctx: dict[str, Any], value: Any, loc: Loc) -> str:
    if loc and isinstance(loc[-1], int) and isinstance(value, list | tuple):
        return f"needs another value here (got only {_plural(len(value), 'value')})"
    return "required but missing"


def _too_short(ctx: dict[str, Any], value: Any, loc: Loc) -> str:
    minimum = ctx.get("min_length", 1)
    return f"needs at least {_plural(minimum, 'item')} (got {ctx.get('actual_length', 0)})"


def _too_long(ctx: dict[str, Any], value: Any, loc: Loc) -> str:
    maximum = ctx.get("max_length")
    return f"allows at most {_plural(maximum, 'item')} (got {ctx.get('actual_length')})"


def _bound(text: str, key: str) -> Callable[[dict[str, Any], Any, Loc], str]:
    return lambda ctx, value, loc: f"must be {text} {show(ctx.get(key))} (got {show(value)})"


def _plain(text: str) -> Callable[[dict[str, Any], Any, Loc], str]:
    return lambda ctx, value, loc: f"{text} (got {show(value)})"


_VALUE_ERRORS: dict[str, Callable[[dict[str, Any], Any, Loc], str]] = {
    "missing": _missing,
    "greater_than": _bound("greater than", "gt"),
    "greater_than_equal": _bound("at least", "ge"),
    "less_than": _bound("less than", "lt"),
    "less_than_equal": _bound("at most", "le"),
    "literal_error": lambda ctx, value, loc: f"must be {ctx.get('expected')} (got {show(value)})",
    "int_parsing": _plain("must be a whole number"),
    "int_type": _plain("must be a whole number"),
    "int_from_float": _plain("must be a whole number"),
    "float_parsing": _plain("must be a number"),
    "float_type": _plain("must be a number"),
    "finite_number": _plain("must be a finite number"),
    BOOL_FOR_NUMBER: _plain("must be a number, not a yes/no value"),
    "string_type": _plain("must be text"),
    "string_too_short": _plain("must not be empty"),
    "string_pattern_mismatch": _plain("is not in the allowed form"),
    "list_type": _plain("must be a list, e.g. [a, b]"),
    "tuple_type": _plain("must be a list, e.g. [a, b]"),
    "too_short": _too_short,
    "too_long": _too_long,
}
"""Error types about a value, worded here; the field's description is appended to each."""
