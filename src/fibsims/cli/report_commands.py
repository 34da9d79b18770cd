"""``fibsims report DIR``: a thin wrapper over the report service.

A sweep folder (``fibsims sweep ... --out DIR``) gets the sweep's comparison report.

Exit codes as for every command: 0 the report was written, 2 bad input (no such folder, no
run.h5, a file that cannot be read, a sweep's sweep.json or sweep.csv unreadable; nothing
written), 1 interrupted or a fibsims bug. None
prints a traceback unless FIBSIMS_DEBUG is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fibsims.cli.guard import guarded
from fibsims.cli.run_commands import ProgressOption

out = Console(highlight=False, soft_wrap=True)


def report(
    folder: Annotated[
        Path, typer.Argument(help="The run folder (holding run.h5), or a sweep folder.")
    ],
    progress: ProgressOption = True,
    best: Annotated[
        int | None,
        typer.Option(
            "--best",
            min=1,
            metavar="N",
            help="Sweep folders: show the 7Li+ maps of the N best variants [default: 3].",
        ),
    ] = None,
) -> None:
    """Write DIR/report/index.html: orthoslices of the SE and 7Li+ volumes, the 7Li+-on-SE
    overlay, a 3D cut-away, lithium per particle, the time budget, incidents and quality, the
    recipe, and on twin runs made with --truth the comparison with the truth. For a sweep
    folder (fibsims sweep --out DIR): its variants ranked by the objective, quality against
    instrument time with the Pareto front, and the best variants' 7Li+ maps."""
    from fibsims.service.report import ReportInputError, ReportRequest, make_report

    result = guarded(
        lambda: make_report(ReportRequest(folder, progress, best)),
        (ReportInputError,),
        "interrupted: the report was not written (an older one is left as it was)",
        "No report was written.",
    )
    out.print(f"report: {result.index}", markup=False)
    out.print(f"  {len(result.figures)} figures in {result.seconds:.1f} s", markup=False)
    for note in result.notes:
        out.print(f"  note: {note}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(report)
