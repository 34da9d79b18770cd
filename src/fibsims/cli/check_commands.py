"""``fibsims check RECIPE... [--junit FILE]``: recipe CI on the twin (validate, preflight,
estimate, a scaled-down pass), exit 1 when any recipe fails, 2 on bad flags."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fibsims.cli.guard import guarded

if TYPE_CHECKING:
    from fibsims.service.recipe_check import RecipeCheck

out = Console(highlight=False, markup=False, soft_wrap=True)
MARKS = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}


def _show(result: RecipeCheck) -> None:
    out.print(f"{'ok  ' if result.ok else 'FAIL'} {result.path}")
    for phase in result.phases:
        first, *rest = phase.messages or [""]
        out.print(f"  {MARKS[phase.status]} {phase.name:<10} {first}".rstrip())
        for message in rest:
            out.print(f"       {'':<10} {message}")


def check(
    recipes: Annotated[list[Path], typer.Argument(help="Recipe YAML files to check.")],
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report here.")
    ] = None,
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            "-i",
            help="Backend (or server address) to preflight and estimate against; the "
            "scaled-down pass always runs on the twin.",
        ),
    ] = "sim",
    slices: Annotated[
        int,
        typer.Option("--slices", min=1, max=100, help="Slices of the scaled-down twin pass."),
    ] = 3,
    strict: Annotated[
        bool, typer.Option("--strict", help="Preflight warnings fail the recipe too.")
    ] = False,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Keep each twin pass's run folder under this folder."),
    ] = None,
) -> None:
    """Check recipes as a lab's CI would: validate, preflight, estimate, and a scaled-down
    pass on the twin that must complete. Exit 0 when all pass, 1 when any fails."""
    from fibsims.service.junit import write_junit
    from fibsims.service.recipe_check import (
        CheckInputError,
        CheckRequest,
        check_outputs,
        check_recipes,
    )

    guarded(lambda: check_outputs(junit, keep), (CheckInputError,), "interrupted")
    request = CheckRequest(tuple(recipes), instrument, slices, strict, keep)
    results = guarded(lambda: check_recipes(request, on_done=_show), (), "interrupted")
    if junit is not None:
        guarded(lambda: write_junit(results, junit), (OSError,), "interrupted")
        out.print(f"JUnit report: {junit}")
    failed = sum(not r.ok for r in results)
    out.print(f"{len(results) - failed} of {len(results)} recipes passed")
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    app.command()(check)
