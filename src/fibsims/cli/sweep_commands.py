"""``fibsims sweep``: a thin wrapper over the sweep service (:mod:`fibsims.service.sweep`).

Exit codes as for ``run``: 0 every variant done, 1 a variant failed or the sweep was
interrupted (the table says which; rerun to resume), 2 bad input (nothing was run). No exit
prints a traceback unless FIBSIMS_DEBUG is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from fibsims.cli.guard import guarded
from fibsims.cli.options import SetOption
from fibsims.recipe.bounds import MAX_SEED

if TYPE_CHECKING:
    from fibsims.service.sweep.runner import SweepReport

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
ERRORS_SHOWN = 10


def sweep(
    recipe: Annotated[
        Path, typer.Argument(help="The base recipe YAML every variant derives from.")
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="The sweep folder (new or empty; or this sweep's folder, to resume it).",
        ),
    ],
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="PATH=V1,V2,...: a recipe value to vary (repeatable: the grid of all). PATH is "
            "a recipe path (slice.3.sims_raster.frames) or a step's kind or name and a field "
            "(sims_raster.frames); values read as --set reads them.",
        ),
    ] = None,
    variants: Annotated[
        Path | None,
        typer.Option(
            "--variants",
            help="A YAML list of variants instead of --vary, each a mapping PATH: value.",
        ),
    ] = None,
    seeds: Annotated[
        int,
        typer.Option("--seeds", min=1, max=1000, help="Runs per variant, seeds S..S+N-1."),
    ] = 1,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            "-s",
            min=0,
            max=MAX_SEED,
            help="The first run seed S (default: the one `fibsims run` takes, the recipe's "
            "twin seed).",
        ),
    ] = None,
    overrides: SetOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="An existing Dask scheduler, tcp://HOST:PORT (default: an embedded local "
            "cluster). Its workers need fibsims installed and --out on a shared filesystem.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=1024, help="Workers of the embedded cluster (default: cores)."
        ),
    ] = None,
    keep: Annotated[
        str,
        typer.Option(
            "--keep",
            help="summary (default): delete each variant's run.h5/sims.h5 once its row and "
            "preview are taken; all: keep every run folder whole.",
        ),
    ] = "summary",
    objective: Annotated[
        str,
        typer.Option(
            "--objective",
            help="The quality metric of the Pareto plot (quality.NAME or NAME); error-like "
            "metrics (rms, error) are better lower, others higher.",
        ),
    ] = "quality.li_map_pearson_r_within_particles",
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a bar over the variants.")
    ] = True,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject a fault into every variant's twin, as `fibsims run --fault` does.",
        ),
    ] = None,
) -> None:
    """Run variants of a recipe on the twin as Dask tasks and compare them: DIR/sweep.csv
    (the varied values, instrument time, data, every quality metric), DIR/pareto.png and a
    run folder per variant under DIR/variants/. Rerun the same command to resume."""
    from fibsims.recipe import RecipeError
    from fibsims.service.sweep.axes import SweepInputError
    from fibsims.service.sweep.checks import SweepInvalid
    from fibsims.service.sweep.execute import SchedulerError, SweepInterrupted
    from fibsims.service.sweep.runner import SweepRequest, run_sweep

    request = SweepRequest(
        recipe=recipe,
        out=out_dir,
        vary=tuple(vary or ()),
        variants_file=variants,
        seeds=seeds,
        seed=seed,
        sets=tuple(overrides or ()),
        scheduler=scheduler,
        workers=workers,
        keep=keep,
        objective=objective,
        progress=progress,
        faults=tuple(fault or ()),
    )

    def call() -> SweepReport:
        try:
            return run_sweep(request)
        except RecipeError as error:
            raise SweepInputError(f"{error}") from None
        except SweepInterrupted as error:
            err.print(str(error), markup=False)
            raise typer.Exit(1) from None

    report = guarded(
        call,
        (SweepInputError, SweepInvalid, SchedulerError),
        f"interrupted; rerun the same command to resume the sweep in {out_dir}",
        f"Rerun the same command to resume the sweep in {out_dir}.",
    )
    _render(report)
    raise typer.Exit(0 if report.ok else 1)


def _render(report: SweepReport) -> None:
    done = sum(row["status"] == "done" for row in report.rows)
    failed = report.failed
    pending = len(report.rows) - done - len(failed)
    out.print(
        f"sweep: {done}/{len(report.rows)} variants done ({report.skipped} skipped as done "
        f"before, {report.ran} run), {len(failed)} failed"
        + (f", {pending} pending" if pending else "")
        + f", in {report.wall_seconds:.1f} s wall",
        markup=False,
    )
    for row in failed[:ERRORS_SHOWN]:
        out.print(f"  failed {row['variant']}: {row['error']}", markup=False)
    if len(failed) > ERRORS_SHOWN:
        out.print(f"  ... and {len(failed) - ERRORS_SHOWN} more (see the table)", markup=False)
    direction = "higher" if report.higher_is_better else "lower"
    out.print(f"table: {report.table}", markup=False)
    out.print(
        f"plot:  {report.plot} ({report.objective}, {direction} is better, against instrument "
        f"hours); Pareto front: {', '.join(report.front) or 'none'}",
        markup=False,
    )
    note = _missing_objective(report)
    if note:
        out.print(f"note: {note}", markup=False)


def _missing_objective(report: SweepReport) -> str | None:
    """A note when no done variant has the objective metric (a typo in --objective)."""
    done = [row for row in report.rows if row["status"] == "done"]
    if report.front or not done:
        return None
    from fibsims.data.sweep_table import flat_quality

    names = sorted({name for row in done for name in flat_quality(row.get("quality") or {})})
    return f"no done variant has {report.objective}; the metrics: {', '.join(names) or 'none'}"


def register(app: typer.Typer) -> None:
    app.command()(sweep)
