"""``fibsims backends`` and ``fibsims inspect``: read-only commands that describe what is
installed and what a run folder holds. Thin: the services describe, this prints.

Exit codes as for every command: 0 described, 2 bad input (not a run folder, a torn or
foreign file), 1 a fibsims bug; never a traceback unless FIBSIMS_DEBUG is set.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from fibsims.cli.guard import guarded
from fibsims.service.backends import describe_backend_lines, describe_backends

out = Console(highlight=False, soft_wrap=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]


def backends(as_json: JsonOption = False) -> None:
    """List the installed instrument backends (entry point group fibsims.instruments) and
    what each declares: ion species, current ladder, voltage, cost model, ground truth."""
    records = guarded(describe_backends, (), "interrupted")
    if as_json:
        print(json.dumps(records, indent=2))
        return
    for line in describe_backend_lines(records):
        out.print(line, markup=False)


def register(app: typer.Typer) -> None:
    app.command()(backends)
