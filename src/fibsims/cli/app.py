"""The ``fibsims`` command line: parses flags, calls a service, renders the result.

Exit codes: 0 success, 1 the run did not complete (failed, aborted, paused), 2 bad input
(recipe, folder, flags). Bad input never prints a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fibsims.cli import recipe_commands
from fibsims.cli.render import render_recipe_error, render_run_report
from fibsims.engine.preflight import PreflightError
from fibsims.instrument.errors import InstrumentError
from fibsims.recipe import RecipeError
from fibsims.service.runs import RunFolderError, RunRequest, start_run

app = typer.Typer(
    name="fibsims",
    help="Automated FIB-SEM / ToF-SIMS slice-and-view, with a physics-backed digital twin.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


@app.command()
def validate(
    recipes: Annotated[list[Path], typer.Argument(help="Recipe YAML files to check.")],
) -> None:
    """Check recipes; print a summary per valid one, every problem with its line otherwise."""
    raise typer.Exit(recipe_commands.validate(recipes))


@app.command()
def schema() -> None:
    """Print the recipe language's JSON Schema (for editors that validate YAML)."""
    raise typer.Exit(recipe_commands.schema())


@app.command()
def run(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML to run.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run folder (default: a new folder under ./runs/)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", min=0, help="Run seed (default: the recipe's twin seed)."),
    ] = None,
    instrument: Annotated[
        str, typer.Option("--instrument", help="Instrument backend name (default: the twin).")
    ] = "sim",
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
) -> None:
    """Run a recipe slice by slice and write the run folder (run.h5, log, summary)."""
    request = RunRequest(
        recipe_path=recipe, out=out_dir, seed=seed, instrument=instrument, progress=progress
    )
    try:
        report = start_run(request)
    except RecipeError as error:
        render_recipe_error(err, error)
        raise typer.Exit(2) from None
    except (RunFolderError, InstrumentError, PreflightError) as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    render_run_report(out, report)
    raise typer.Exit(0 if report.ok else 1)


def main() -> None:
    app()
