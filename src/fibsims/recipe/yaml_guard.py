"""A PyYAML loader that refuses alias bombs, runaway nesting and endless integers as it reads.

PyYAML's composer recurses once per level of nesting and turns an alias into the very node it
names, which walking and constructing the document then expand: a few hundred brackets exhaust
Python's stack, and nine levels of nine aliases stand for 387 million values. This loader checks
each parser event as the composer takes it, keeping the expanded size and height of every
anchored node, so the first event that crosses a limit of :mod:`fibsims.recipe.input_limits`
stops the load with its line: at most ``MAX_NESTING`` levels into the composer, before anything
is expanded, in time proportional to the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from fibsims.recipe.errors import Problem
from fibsims.recipe.input_limits import (
    MAX_EXPANDED_CHARS,
    MAX_INTEGER_CHARS,
    MAX_NESTING,
    MAX_NODES,
)

_NEEDED = "(a recipe needs about 6)"


class LimitExceeded(Exception):
    """The document crossed an input limit; ``problem`` says which, on what line, and the fix."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class _Extent:
    """What a node stands for once its aliases are expanded."""

    nodes: int
    chars: int
    levels: int
    """Lists and mappings nested in it, itself included: 0 for a scalar."""


@dataclass
class _Open:
    """A list or mapping whose end has not been read yet."""

    anchor: str | None
    nodes_before: int
    chars_before: int
    levels_below: int = 0


class _Budget:
    """Running totals of the document as if every alias were expanded, checked per event."""

    def __init__(self) -> None:
        self.nodes = 0
        self.chars = 0
        self.open: list[_Open] = []
        self.anchors: dict[str, _Extent] = {}

    def see(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            scalar = _Extent(1, len(event.value), 0)
            self._add(scalar, event)
            if event.anchor is not None:
                self.anchors[event.anchor] = scalar
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(self.open) >= MAX_NESTING:
                raise _refuse(
                    event,
                    f"lists and mappings nest more than {MAX_NESTING} levels deep at column "
                    f"{event.start_mark.column + 1} {_NEEDED}; close the brackets opened above "
                    "or fix the indentation",
                )
            self.open.append(_Open(event.anchor, self.nodes, self.chars))
            self._add(_Extent(1, 0, 0), event)
        elif isinstance(event, yaml.CollectionEndEvent):
            done = self.open.pop()
            nodes, chars = self.nodes - done.nodes_before, self.chars - done.chars_before
            extent = _Extent(nodes, chars, done.levels_below + 1)
            if done.anchor is not None:
                self.anchors[done.anchor] = extent
            self._nest(extent.levels)

    def _alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor
        if any(collection.anchor == name for collection in self.open):
            raise _refuse(
                event,
                f"the alias *{name} is inside the list or mapping it names, so it would repeat "
                "for ever; remove it",
            )
        extent = self.anchors.get(name)
        if extent is None:  # an undefined alias: the composer reports it next
            return
        if len(self.open) + extent.levels > MAX_NESTING:
            raise _refuse(
                event,
                f"the alias *{name} nests lists and mappings more than {MAX_NESTING} levels deep "
                f"here {_NEEDED}; write the value out or nest fewer aliases",
            )
        self._add(extent, event, name)
        self._nest(extent.levels)

    def _add(self, extent: _Extent, event: yaml.Event, alias: str | None = None) -> None:
        self.nodes += extent.nodes
        self.chars += extent.chars
        if self.nodes > MAX_NODES:
            if alias is None:
                raise _refuse(
                    event,
                    f"more than {MAX_NODES:,} YAML nodes (keys, values, lists and mappings; "
                    "a recipe has a few hundred); check that this is a recipe file",
                )
            raise _refuse(
                event,
                f"the alias *{alias} stands for {extent.nodes:,} YAML nodes, taking the recipe "
                f"past {MAX_NODES:,} once aliases are expanded (a recipe has a few hundred): "
                "refused as an alias bomb; write the values out or use fewer aliases",
            )
        if self.chars > MAX_EXPANDED_CHARS:
            what = "this takes"
            if alias is not None:
                what = f"the alias *{alias} stands for {extent.chars:,} characters, taking"
            raise _refuse(
                event,
                f"{what} the recipe past {MAX_EXPANDED_CHARS:,} characters of text once aliases "
                "are expanded (the most a recipe file may hold): refused as an alias bomb; use "
                "fewer aliases of long text",
            )

    def _nest(self, levels: int) -> None:
        """A child of ``levels`` levels has ended inside the innermost open list or mapping."""
        if self.open:
            parent = self.open[-1]
            parent.levels_below = max(parent.levels_below, levels)


def _refuse(event: yaml.Event | yaml.Node, message: str) -> LimitExceeded:
    mark = event.start_mark
    return LimitExceeded(Problem("", mark.line + 1 if mark is not None else None, message))


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` checking each event against the input limits as the composer reads
    it, and refusing integers too long to convert quickly."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._budget = _Budget()

    def get_event(self) -> yaml.Event:
        """Every event the composer consumes passes here (it only peeks otherwise)."""
        event = super().get_event()
        self._budget.see(event)
        return event

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_INTEGER_CHARS:
            raise _refuse(
                node,
                f"an integer {len(node.value):,} characters long ({node.value[:20]}...); a "
                f"recipe number has at most about 20 digits (the limit is {MAX_INTEGER_CHARS}): "
                "check this value",
            )
        return super().construct_yaml_int(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
