"""Read YAML text into plain data plus a map from field path to line number.

PyYAML's ``compose`` step yields a node tree whose marks carry line numbers; constructing the
data from that same tree (rather than parsing twice) keeps the two in step. Duplicate keys are
found on the node tree too, since construction silently keeps the last value.
Only ``yaml.SafeLoader`` is used (as ``BoundedLoader``): a recipe can never instantiate Python
objects, and a document past the input limits is refused while it is read, before the walk or
the construction expand its aliases; that also bounds the walk's recursion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from fibsims.recipe.errors import Problem, RecipeError
from fibsims.recipe.input_limits import MAX_RECIPE_BYTES
from fibsims.recipe.yaml_guard import BoundedLoader, LimitExceeded

Path = tuple[str, ...]
"""A field path with every part as text: list indices are written as their digits."""


@dataclass(frozen=True)
class YamlDocument:
    """The data of a YAML document and where each of its keys and list items is."""

    data: Any
    lines: dict[Path, int]
    duplicates: list[Problem] = field(default_factory=list)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """1-based line of ``path``, or of its nearest ancestor present in the file."""
        parts: Path = tuple(str(part) for part in path)
        for end in range(len(parts), -1, -1):
            line = self.lines.get(parts[:end])
            if line is not None:
                return line
        return None


def read_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document; raise ``RecipeError`` with a single problem if that fails."""
    if len(text) > MAX_RECIPE_BYTES:
        message = (
            f"is {len(text):,} characters long; a recipe may hold at most {MAX_RECIPE_BYTES:,} "
            "(a recipe is a few KB): check that this is the recipe"
        )
        raise RecipeError(source, [Problem("", None, message)])
    try:
        loader = BoundedLoader(text)  # it checks every character here already
    except yaml.reader.ReaderError as exc:
        raise RecipeError(source, [_bad_character(text, exc)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise RecipeError(source, [_empty()])
        lines: dict[Path, int] = {}
        duplicates: list[Problem] = []
        _walk(node, (), lines, duplicates)
        data = loader.construct_document(node)
        if data is None:  # a document that is only 'null' or '~'
            raise RecipeError(source, [_empty()])
    except LimitExceeded as exc:
        raise RecipeError(source, [exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        raise RecipeError(source, [_syntax_problem(exc)]) from None
    except yaml.reader.ReaderError as exc:
        raise RecipeError(source, [_bad_character(text, exc)]) from None
    except yaml.YAMLError as exc:  # any other unmarked error: rare
        raise RecipeError(source, [Problem("", None, f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return YamlDocument(data, lines, duplicates)


def _empty() -> Problem:
    message = "the recipe is empty; a recipe starts with 'recipe: <name>' and 'version: 1'"
    return Problem("", None, message)


def _bad_character(text: str, exc: yaml.reader.ReaderError) -> Problem:
    line = text.count("\n", 0, exc.position) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return Problem("", line, f"contains a control character YAML does not allow (U+{code:04X})")


def _syntax_problem(exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = exc.problem or "cannot be read"
    if "expected a single document" in f"{exc.context} {what}":
        return Problem("", line, "a recipe file holds one YAML document; remove this second one")
    detail = f"not valid YAML: {what}"
    if mark is not None:
        detail += f" (column {mark.column + 1})"
    if exc.context:
        context_line = f" at line {exc.context_mark.line + 1}" if exc.context_mark else ""
        detail += f", {exc.context}{context_line}"
    if "'\\t'" in what:
        detail += "; indent with spaces, YAML does not allow tabs"
    return Problem("", line, detail)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[Problem]) -> None:
    """Record the line of every key and list item below ``node``; collect duplicate keys.

    Aliases are walked as the data will hold them, expanded; the loader has refused documents
    that expand past its limits or refer to themselves, so this ends, and within the limits.
    """
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        # a merge key's keys belong to this mapping but live elsewhere: they are not walked here
        items = [(str(key.value), key, value) for key, value in node.value if key.value != "<<"]
        last = {(key_node.tag, key): index for index, (key, key_node, _) in enumerate(items)}
        first_line: dict[tuple[str, str], int] = {}
        for index, (key, key_node, value_node) in enumerate(items):
            identity = (key_node.tag, key)
            line = key_node.start_mark.line + 1
            if identity in first_line:
                duplicates.append(
                    Problem(
                        ".".join((*path, key)),
                        line,
                        f"duplicate key (first given on line {first_line[identity]}); YAML would "
                        "silently keep only the last one: remove one of them",
                    )
                )
            first_line.setdefault(identity, line)
            # the data keeps the last value, so its lines are the ones to point at; the others
            # are walked only for the duplicates inside them
            found = lines if last[identity] == index else {}
            found[(*path, key)] = line
            _walk(value_node, (*path, key), found, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, str(index)), lines, duplicates)
