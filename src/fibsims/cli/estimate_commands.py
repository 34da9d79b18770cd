"""``fibsims estimate RECIPE``: instrument time, ion dose and data of a recipe, before booking.

Exit codes as for every command: 0 estimated, 2 bad input (an invalid recipe, an unknown
backend) or a recipe the instrument cannot run as written (a current off its ladder, a tilt
its stage cannot reach: the estimate is printed with each problem), 1 a fibsims bug. No
traceback unless FIBSIMS_DEBUG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fibsims.cli.estimate_plain import run_estimate
from fibsims.cli.guard import Failed
from fibsims.cli.options import SetOption


def estimate(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML to estimate.")],
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            "-i",
            help="Backend whose timing models to use, or an instrument server's address "
            "(tcp://HOST:PORT). Default: the twin.",
        ),
    ] = "sim",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (for scripts).")
    ] = False,
    truth: Annotated[
        bool, typer.Option("--truth", help="Count the twin's ground-truth maps in the data.")
    ] = False,
    overrides: SetOption = None,
) -> None:
    """Estimate a recipe's instrument time (total, per step kind, per slice), ion dose, data
    volume and end time from the backend's timing models, without running it. The JSON's
    `simulated_seconds` compares with a run's summary.json."""
    try:
        code = run_estimate(
            recipe, instrument, as_json=as_json, truth=truth, overrides=overrides or ()
        )
    except Failed as failed:
        raise typer.Exit(failed.code) from None
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(estimate)
