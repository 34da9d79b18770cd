"""``fibsims backends`` and ``fibsims inspect``: read-only commands that describe what is
installed and what a run folder holds. Thin: the services describe, this prints.

Exit codes as for every command: 0 described, 2 bad input (not a run folder, a torn or
foreign file), 1 a fibsims bug; never a traceback unless FIBSIMS_DEBUG is set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fibsims.cli.guard import guarded

out = Console(highlight=False, soft_wrap=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]


def backends(as_json: JsonOption = False) -> None:
    """List the installed instrument backends (entry point group fibsims.instruments) and
    what each declares: ion species, current ladder, voltage, cost model, ground truth."""
    from fibsims.service.backends import describe_backend_lines, describe_backends

    records = guarded(describe_backends, (), "interrupted")
    if as_json:
        print(json.dumps(records, indent=2))
        return
    for line in describe_backend_lines(records):
        out.print(line, markup=False)


def inspect(
    path: Annotated[
        Path,
        typer.Argument(
            help="A run folder, or a file in it: run.h5, sims.h5, volumes.h5, summary.json."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Summarise a run folder or one of its files: recipe and --set overrides, state, slices
    committed of planned, instrument and wall time, incidents, and every dataset with its
    shape, dtype and units."""
    from fibsims.service.inspect import InspectError, describe_inspection, inspect_path

    report = guarded(lambda: inspect_path(path), (InspectError,), "interrupted")
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    for line in describe_inspection(report):
        out.print(line, markup=False)


def register(app: typer.Typer) -> None:
    app.command()(backends)
    app.command()(inspect)
