"""The ``fibsims`` command line: parses flags, calls a service, renders the result.

Exit codes: 0 success, 1 the run did not complete (failed, aborted, paused), 2 bad input
(recipe, folder, flags). Bad input never prints a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fibsims.cli import (
    check_commands,
    estimate_commands,
    info_commands,
    link_commands,
    recipe_commands,
    report_commands,
    run_commands,
    sweep_commands,
    volume_commands,
)
from fibsims.cli.options import SetOption
from fibsims.cli.root import new_app

app = new_app()


@app.command()
def validate(
    recipes: Annotated[list[Path], typer.Argument(help="Recipe YAML files to check.")],
    preflight: Annotated[
        bool,
        typer.Option(
            "--preflight",
            help="Also check each recipe against the instrument (current ladder, scans, time "
            "limit, free disk) and show the warnings, as `run` does before anything moves.",
        ),
    ] = False,
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            "-i",
            help="Backend (or instrument server address) to estimate and preflight against.",
        ),
    ] = "sim",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON document: per recipe path, ok, summary, problems, estimate "
            "(and preflight).",
        ),
    ] = False,
    overrides: SetOption = None,
) -> None:
    """Check recipes; print a summary and the estimate per valid one, every problem with its
    line otherwise."""
    check = recipe_commands.validate_json if as_json else recipe_commands.validate
    raise typer.Exit(check(recipes, overrides or (), preflight=preflight, instrument=instrument))


@app.command()
def schema() -> None:
    """Print the recipe language's JSON Schema (for editors that validate YAML)."""
    raise typer.Exit(recipe_commands.schema())


recipe_app = typer.Typer(
    name="recipe", help="Start recipes.", no_args_is_help=True, add_completion=False
)
app.add_typer(recipe_app)


@recipe_app.command("init")
def recipe_init(
    path: Annotated[
        Path, typer.Argument(help="Where to write the recipe (default: recipe.yaml here).")
    ] = Path("recipe.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented template recipe (valid as it is) to edit into your own."""
    raise typer.Exit(recipe_commands.init(path, force))


run_commands.register(app)
link_commands.register(app)
volume_commands.register(app)
report_commands.register(app)
estimate_commands.register(app)
check_commands.register(app)
sweep_commands.register(app)
info_commands.register(app)


def main() -> None:
    app()
