"""``--set path=value``: change one value of a recipe from the command line, before validation.

Why on the YAML data and not on the validated model: the override then goes through exactly
the checks the file does (ranges, units, cross-field rules), and its problems read like the
file's, by the same path (``slice.2.se_image.dwell_us``, as the loader's messages name fields),
except that they say the value came from ``--set``, not from a line of the file.

The value is read as YAML (``10``, ``2.5``, ``true``, ``[192, 128]``, ``{passes: 2}``), with the
recipe loader's input limits. A path must lead through what the recipe has or may have: a
missing mapping along the way is made when the recipe language has that field (``--set
limits.max_hours=3`` in a recipe without ``limits:``), a list index must exist.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from fibsims.recipe.errors import Problem, RecipeError
from fibsims.recipe.field_lookup import model_at
from fibsims.recipe.messages import show
from fibsims.recipe.yaml_guard import BoundedLoader, LimitExceeded

SOURCE = "--set"
EXAMPLE = "e.g. --set volume.slices=10 or --set slice.2.se_image.dwell_us=2"


@dataclass(frozen=True)
class Override:
    """One ``--set``: a field path (list indices as digits) and its value."""

    path: tuple[str, ...]
    text: str
    """The value as given on the command line."""
    value: Any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def spec(self) -> str:
        """``volume.slices=10``: what run.json records and messages quote."""
        return f"{self.dotted}={self.text}"

    def covers(self, path: str) -> bool:
        """Whether a problem at ``path`` (dotted) is about this override's value."""
        return path == self.dotted or path.startswith(self.dotted + ".")


def parse_overrides(specs: Iterable[str]) -> tuple[Override, ...]:
    """Every ``path=value``, or a :class:`RecipeError` (source ``--set``) naming each bad one."""
    found, problems = [], []
    for spec in specs:
        try:
            found.append(_parse(spec))
        except _Bad as bad:
            problems.append(Problem("", None, f"{spec!r}: {bad}"))
    if problems:
        raise RecipeError(SOURCE, problems)
    return tuple(found)


class _Bad(Exception):
    pass


def _parse(spec: str) -> Override:
    if "=" not in spec:
        raise _Bad(f"give it as path=value, {EXAMPLE}")
    dotted, text = spec.split("=", 1)
    path = tuple(part.strip() for part in dotted.strip().split("."))
    if not dotted.strip() or any(not part for part in path):
        raise _Bad(f"the path {dotted!r} has an empty part; {EXAMPLE}")
    if not text.strip():
        raise _Bad(f"no value after '='; {EXAMPLE} (null clears a field)")
    try:
        value = yaml.load(text, Loader=BoundedLoader)
    except LimitExceeded as error:
        raise _Bad(f"the value is too large: {error.problem.message}") from None
    except yaml.YAMLError as error:
        what = getattr(error, "problem", None) or str(error)
        raise _Bad(f"the value {text!r} is not a YAML value ({what}); quote text") from None
    return Override(path, text, value)


def apply_overrides(
    data: Mapping[str, Any], overrides: Iterable[Override]
) -> tuple[dict[str, Any], list[Problem]]:
    """A copy of the recipe's ``data`` with every override applied, and the problems of those
    whose path leads nowhere (each naming the keys or indices that exist)."""
    result = copy.deepcopy(dict(data))
    problems = []
    for override in overrides:
        problem = _apply(result, override)
        if problem is not None:
            problems.append(
                Problem(override.dotted, None, problem, origin=f"--set {override.spec}")
            )
    return result, problems


def _apply(data: dict[str, Any], override: Override) -> str | None:
    """Set the value, or say why the path leads nowhere."""
    node: Any = data
    loc: list[str | int] = []
    for depth, part in enumerate(override.path):
        last = depth == len(override.path) - 1
        where = ".".join(str(p) for p in loc) or "the recipe"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                items = "1 item" if len(node) == 1 else f"{len(node)} items"
                return f"{where} is a list of {items}: give an index 0..{len(node) - 1}"
            key: str | int = int(part)
        elif isinstance(node, dict):
            key = part
            if key not in node and not last:
                known = _keys_at(tuple(loc), node)
                if part not in known:
                    listed = ", ".join(known) or "none"
                    return f"{where} has no key {part!r}; its keys: {listed}"
                node[key] = {}
        else:
            return f"{where} is a single value ({show(node)}), it has no {part!r}"
        if last:
            node[key] = override.value
            return None
        loc.append(key)
        node = node[key]
    return None


def _keys_at(loc: tuple[str | int, ...], node: dict[str, Any]) -> list[str]:
    """The keys a mapping at ``loc`` may have: its model's fields, else those it has."""
    model = model_at(loc)
    if model is not None:
        return list(model.model_fields)
    return [str(k) for k in node]


def mark_overridden(problems: list[Problem], overrides: Iterable[Override]) -> list[Problem]:
    """Problems about an overridden value point at its ``--set``, not at a line of the file."""
    given = list(overrides)
    marked = []
    for problem in problems:
        override = next((o for o in reversed(given) if o.covers(problem.path)), None)
        if override is not None:
            problem = Problem(problem.path, None, problem.message, origin=f"--set {override.spec}")
        marked.append(problem)
    return marked
