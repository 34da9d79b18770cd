"""What the loader reports when a recipe is wrong: every problem, each with its path and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a recipe file.

    ``path`` is the dotted field path with list indices (``slice.0.mill.current_na``), empty
    for a problem with the file as a whole; ``line`` is the 1-based YAML line of that key (or of
    its nearest parent present in the file), None when there is no line to point at;
    ``origin`` says where the value came from when it was not the file (``--set
    volume.slices=0``), and is shown instead of the line.
    """

    path: str
    line: int | None
    message: str
    origin: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.origin is not None:
            where = f"{where} (from {self.origin})" if where else f"from {self.origin}"
        elif self.line is not None:
            where = f"{where} (line {self.line})" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message


class RecipeError(ValueError):
    """A recipe that cannot be used, with every problem found in it."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(source, self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        header = f"{self.source}: {count} problem{'s' if count != 1 else ''}"
        return "\n  ".join([header, *(str(problem) for problem in self.problems)])
