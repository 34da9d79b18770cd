"""The ``fibsims`` command group itself, and the group with ``estimate`` alone.

Why apart from :mod:`fibsims.cli.app`: ``fibsims estimate`` is built on a group made here exactly
as the full one (same settings, same ``--version`` callback) holding that one command, so it
parses, helps and fails as in the full app without importing and building the other commands
(issue 13: its start-up time). This module imports typer and nothing of fibsims.
"""

from __future__ import annotations

from typing import Annotated

import typer

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
"""``-h`` as ``--help`` on every command (click hands it down to every subcommand)."""


def _print_version(asked: bool) -> None:
    if asked:
        import fibsims

        print(f"fibsims {fibsims.__version__}")
        raise typer.Exit(0)


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


def new_app() -> typer.Typer:
    """The ``fibsims`` group with no commands yet."""
    app = typer.Typer(
        name="fibsims",
        help="Automated FIB-SEM / ToF-SIMS slice-and-view, with a physics-backed digital twin.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings=HELP_OPTIONS,
    )
    app.callback()(_main)
    return app


def estimate_app() -> typer.Typer:
    """The group with ``estimate`` alone: what ``fibsims estimate ...`` runs
    (:func:`fibsims.cli.entry.main`)."""
    from fibsims.cli import estimate_commands

    app = new_app()
    estimate_commands.register(app)
    return app
