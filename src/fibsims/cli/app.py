"""The ``fibsims`` command line: parses flags, calls a service, renders the result.

Exit codes: 0 success, 1 the run did not complete (failed, aborted, paused), 2 bad input
(recipe, folder, flags). Bad input never prints a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fibsims.cli import (
    estimate_commands,
    info_commands,
    link_commands,
    recipe_commands,
    report_commands,
    run_commands,
    volume_commands,
)
from fibsims.cli.run_commands import SetOption

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
"""``-h`` as ``--help`` on every command (click hands it down to every subcommand)."""

app = typer.Typer(
    name="fibsims",
    help="Automated FIB-SEM / ToF-SIMS slice-and-view, with a physics-backed digital twin.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
)


def _print_version(asked: bool) -> None:
    if asked:
        import fibsims

        print(f"fibsims {fibsims.__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version (fibsims X.Y.Z) and exit.",
        ),
    ] = False,
) -> None:
    """Automated FIB-SEM / ToF-SIMS slice-and-view, with a physics-backed digital twin."""


@app.command()
def validate(
    recipes: Annotated[list[Path], typer.Argument(help="Recipe YAML files to check.")],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON document: per recipe path, ok, summary, problems."
        ),
    ] = False,
    overrides: SetOption = None,
) -> None:
    """Check recipes; print a summary per valid one, every problem with its line otherwise."""
    if as_json:
        raise typer.Exit(recipe_commands.validate_json(recipes, overrides or ()))
    raise typer.Exit(recipe_commands.validate(recipes, overrides or ()))


@app.command()
def schema() -> None:
    """Print the recipe language's JSON Schema (for editors that validate YAML)."""
    raise typer.Exit(recipe_commands.schema())


run_commands.register(app)
link_commands.register(app)
volume_commands.register(app)
report_commands.register(app)
estimate_commands.register(app)
info_commands.register(app)


def main() -> None:
    app()
