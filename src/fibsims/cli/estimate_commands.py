"""``fibsims estimate RECIPE``: instrument time, ion dose and data of a recipe, before booking.

Exit codes as for every command: 0 estimated, 2 bad input (an invalid recipe, an unknown
backend) or a recipe the instrument cannot run as written (a current off its ladder, a tilt
its stage cannot reach: the estimate is printed with each problem), 1 a fibsims bug. No
traceback unless FIBSIMS_DEBUG.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fibsims.cli.guard import guarded
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
    from fibsims.service.estimate import (
        EstimateError,
        EstimateRequest,
        describe_estimate,
        estimate_recipe,
    )

    result = guarded(
        lambda: estimate_recipe(
            EstimateRequest(recipe, instrument, truth=truth, overrides=tuple(overrides or ()))
        ),
        (EstimateError,),
        "interrupted",
    )
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        from rich.console import Console  # not for --json (issue 13: start-up time)

        out = Console(highlight=False, soft_wrap=True)
        for line in describe_estimate(result):
            out.print(line, markup=False)
    if result["problems"]:  # the instrument cannot run the recipe as written
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command()(estimate)
