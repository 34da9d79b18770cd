"""``fibsims sweep``: one base recipe, many variants, each a normal run on the twin, on Dask.

In order, refusing before anything runs what cannot work (exit 2, nothing started):

1. the flags, the recipe file and its ``--set``; the variants (:mod:`.plan`: the grid, or a
   ``--variants`` file, times the seeds; at most :data:`~.plan.MAX_VARIANTS`);
2. the folder ``--out`` (a new or empty folder, or the folder of this very sweep) and its lock
   (one sweep per folder: a second is refused naming the first);
3. every variant validated and preflighted (:mod:`.checks`), the problems of all at once;
   the disk against the data the variants will write;
4. the variants a previous sweep in the folder finished are skipped (:mod:`.collect`);
5. the Dask client (:mod:`.execute`), then ``sweep.json`` (:mod:`.manifest`) and the table,
   then every other variant as a Dask task (:mod:`.task`); the table is rewritten as each ends,
   so an interrupted sweep leaves a table that says where it stands;
6. ``pareto.png`` (:mod:`fibsims.data.pareto`), the log's last line, the lock released.

A variant that fails is a row with its error (the traceback in ``sweep.log.jsonl``); the
others go on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fibsims.data.event_log import EventLog
from fibsims.data.pareto import higher_is_better, write_pareto_plot
from fibsims.data.sweep_folder import MANIFEST, PLOT, TABLE, VARIANTS
from fibsims.data.sweep_progress import SweepBar
from fibsims.data.sweep_table import QUALITY_PREFIX, write_table
from fibsims.recipe import parse_overrides
from fibsims.recipe.source_file import read_recipe_text
from fibsims.service.integrity import recipe_sha256
from fibsims.service.lock import LOCK_NAME, OWNER_NAME, RunLock, RunLocked
from fibsims.service.outdir import RUN_MARKERS, free_bytes, nearest_existing
from fibsims.service.sweep import manifest as manifests
from fibsims.service.sweep.axes import SweepInputError
from fibsims.service.sweep.checks import Checked, check_variants
from fibsims.service.sweep.collect import (
    finished_row,
    is_this_variant,
    new_row,
    points,
    row_from_result,
)
from fibsims.service.sweep.keep import KEEP_CHOICES
from fibsims.service.sweep.plan import (
    MAX_SEEDS,
    SweepPlan,
    Variant,
    base_data,
    file_plan,
    first_seed,
    grid_plan,
    load_base,
)
from fibsims.service.sweep.task import VariantTask

DISK_MARGIN = 1.2


def _tell(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SweepRequest:
    recipe: Path
    out: Path
    vary: tuple[str, ...] = ()
    variants_file: Path | None = None
    seeds: int = 1
    seed: int | None = None
    """The first run seed (default: the one ``fibsims run`` takes)."""
    sets: tuple[str, ...] = ()
    scheduler: str | None = None
    workers: int | None = None
    keep: str = "summary"
    objective: str = manifests.DEFAULT_OBJECTIVE
    progress: bool = True
    faults: tuple[str, ...] = ()
    """``--fault`` specs injected into every variant's twin (service.faults)."""
    tell: Callable[[str], None] = _tell


@dataclass
class SweepReport:
    folder: Path
    rows: list[dict[str, Any]]
    objective: str
    skipped: int = 0
    ran: int = 0
    workers: int = 0
    wall_seconds: float = 0.0
    front: list[str] = field(default_factory=list)
    higher_is_better: bool = True

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "failed"]

    @property
    def ok(self) -> bool:
        return all(row["status"] == "done" for row in self.rows)

    @property
    def table(self) -> Path:
        return self.folder / TABLE

    @property
    def plot(self) -> Path:
        return self.folder / PLOT


def default_workers() -> int:
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))  # the cores this process may use (Linux)
    return os.cpu_count() or 1


def _check_flags(request: SweepRequest) -> None:
    if request.keep not in KEEP_CHOICES:
        raise SweepInputError(f"--keep {request.keep!r}: give one of {', '.join(KEEP_CHOICES)}")
    if not 1 <= request.seeds <= MAX_SEEDS:
        raise SweepInputError(f"--seeds {request.seeds}: give 1 to {MAX_SEEDS}")
    if request.workers is not None and request.workers < 1:
        raise SweepInputError(f"--workers {request.workers}: give 1 or more")
    if bool(request.vary) == (request.variants_file is not None):
        raise SweepInputError(
            "give the variants either as --vary PATH=V1,V2,... (repeatable) or as "
            "--variants FILE.yaml, not both and not neither"
        )
    if request.scheduler is not None:
        from fibsims.service.sweep.execute import check_address

        check_address(request.scheduler)
    out = request.out
    if out.exists() and not out.is_dir():
        raise SweepInputError(f"--out {out} is a file, not a folder; choose a folder path")
    base = nearest_existing(out)
    if not base.is_dir():
        raise SweepInputError(f"--out {out} lies under {base}, which is a file")
    if not os.access(base, os.W_OK | os.X_OK):
        raise SweepInputError(f"--out {out}: cannot write in {base} (permission denied)")


def make_plan(request: SweepRequest, text: str) -> SweepPlan:
    source = str(request.recipe)
    parse_overrides(request.sets)  # a bad --set is refused as --set (RecipeError)
    data = base_data(text, source, request.sets)
    base = load_base(text, source, request.sets)
    start = request.seed if request.seed is not None else first_seed(data, base)
    seeds = [start + k for k in range(request.seeds)]
    if request.variants_file is not None:
        return file_plan(request.variants_file, data, seeds, request.sets)
    return grid_plan(request.vary, data, seeds, request.sets)


def _claim(out: Path) -> tuple[RunLock, list[Path], dict[str, Any] | None]:
    """The sweep folder, locked: made if missing; its manifest when it holds a sweep."""
    made = []
    here = out.absolute()
    while not here.exists() and here != here.parent:
        made.append(here)
        here = here.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SweepInputError(f"--out {out} cannot be made: {error.strerror or error}") from None
    lock = RunLock(out, "sweep")
    try:
        lock.acquire()
    except RunLocked as error:
        raise SweepInputError(str(error)) from None
    try:
        old = manifests.read_manifest(out)
        if old is None:
            names = {p.name for p in out.iterdir()} - {LOCK_NAME, OWNER_NAME}
            if any(marker in names for marker in RUN_MARKERS):
                raise SweepInputError(f"{out} holds a run, not a sweep; choose another --out")
            if names:
                raise SweepInputError(
                    f"--out {out} is not empty ({len(names)} entries, e.g. "
                    f"{sorted(names)[0]!r}) and holds no sweep; choose a new or empty folder"
                )
    except BaseException:
        _release(lock, out, made, fresh=True)
        raise
    return lock, made, old


def _release(lock: RunLock, out: Path, made: list[Path], fresh: bool) -> None:
    """Let the folder go; a sweep refused in a folder it made leaves nothing behind."""
    lock.release()
    if fresh:
        for name in (LOCK_NAME, OWNER_NAME):
            with contextlib.suppress(OSError):
                (out / name).unlink(missing_ok=True)
        for level in made:
            with contextlib.suppress(OSError):
                level.rmdir()


def _disk_check(
    request: SweepRequest, checked: Checked, pending: list[Variant], workers: int
) -> None:
    sizes = sorted(
        (checked.estimates.get(v.id, {}).get("data_bytes") or 0 for v in pending), reverse=True
    )
    needed = sum(sizes) if request.keep == "all" else sum(sizes[:workers])
    needed = int(needed * DISK_MARGIN)
    free = free_bytes(request.out)
    if needed > free:
        gib = 2**30
        raise SweepInputError(
            f"the variants still to run need about {needed / gib:.2f} GiB (--keep "
            f"{request.keep}, {DISK_MARGIN:g} x the estimate) but {request.out} has "
            f"{free / gib:.2f} GiB free; free space, use --keep summary, or vary less"
        )


def _pending(out: Path, plan: SweepPlan, sha: str) -> tuple[list[dict[str, Any]], list[Variant]]:
    """Every variant's row (done ones from their folders) and the variants still to run; a
    variant folder holding another run (an edited folder) is set aside in superseded/."""
    rows, pending = [], []
    for variant in plan.variants:
        folder = out / variant.run_dir
        row = finished_row(folder, variant, sha)
        if row is not None:
            rows.append(row)
            continue
        if is_this_variant(folder, variant, sha) is False:
            aside = out / "superseded"
            aside.mkdir(exist_ok=True)
            folder.rename(aside / f"{variant.id}-other-{time.strftime('%Y%m%d-%H%M%S')}")
        rows.append(new_row(variant))
        pending.append(variant)
    return rows, pending


def run_sweep(request: SweepRequest) -> SweepReport:
    """Run the sweep ``request`` describes (see the module docstring)."""
    started = time.monotonic()
    _check_flags(request)
    text = read_recipe_text(request.recipe)
    plan = make_plan(request, text)
    objective = QUALITY_PREFIX + request.objective.removeprefix(QUALITY_PREFIX)
    sha = recipe_sha256(text)
    out = request.out
    manifest = manifests.make_manifest(
        recipe=str(request.recipe),
        recipe_sha256=sha,
        sets=list(request.sets),
        plan=plan,
        objective=objective,
        keep=request.keep,
        variants_file=str(request.variants_file) if request.variants_file else None,
    )
    lock, made, old = _claim(out)
    fresh = old is None
    try:
        if old is not None:
            manifests.check_same_sweep(old, manifest, out)
        request.tell(f"checking {len(plan.variants)} variants (validation and preflight)")
        checked = check_variants(text, request.recipe, plan.variants)
        for warning in checked.warnings[:10]:
            request.tell(f"warning: {warning}")
        rows, pending = _pending(out, plan, sha)
        return _execute(request, text, plan, manifest, checked, (rows, pending), started)
    except BaseException:
        if fresh and not (out / MANIFEST).exists():
            _release(lock, out, made, fresh=True)
        raise
    finally:
        lock.release()


def _execute(
    request: SweepRequest,
    text: str,
    plan: SweepPlan,
    manifest: dict[str, Any],
    checked: Checked,
    state: tuple[list[dict[str, Any]], list[Variant]],
    started: float,
) -> SweepReport:
    out = request.out
    rows, pending = state
    report = SweepReport(out, rows, manifest["objective"], skipped=len(rows) - len(pending))
    axes = list(plan.axes)
    with contextlib.ExitStack() as stack:
        client = None
        if pending:
            from fibsims.service.sweep.execute import dask_client, workers_of

            workers = request.workers or default_workers()
            _disk_check(request, checked, pending, workers if request.scheduler is None else 1)
            client = stack.enter_context(dask_client(request.scheduler, workers))
            report.workers = workers_of(client) or workers
        from fibsims.data.atomic import write_json_atomic

        write_json_atomic(out / MANIFEST, manifest)
        (out / VARIANTS).mkdir(exist_ok=True)
        log = EventLog(out / manifests.LOG)
        stack.callback(log.close)
        log.message(
            "sweep_started",
            variants=len(rows),
            skipped=report.skipped,
            to_run=len(pending),
            workers=report.workers,
            scheduler=request.scheduler or "embedded LocalCluster",
            estimate_instrument_hours=round(checked.instrument_hours, 3),
        )
        write_table(out / TABLE, axes, rows)
        where = (
            f"{len(pending)} to run on {report.workers} Dask workers" if pending else "none to run"
        )
        request.tell(
            f"sweep: {len(rows)} variants, {report.skipped} done before (skipped), {where}; "
            f"~{checked.instrument_hours:.1f} h of instrument time in all"
        )
        index = {row["variant"]: i for i, row in enumerate(rows)}
        by_id = {v.id: v for v in plan.variants}
        bar = SweepBar(len(rows), report.skipped) if request.progress and pending else None
        if bar is not None:
            stack.callback(bar.close)

        def on_result(task: VariantTask, result: dict[str, Any]) -> None:
            row = row_from_result(by_id[task.id], result)
            rows[index[task.id]] = row
            report.ran += 1
            fields = {k: v for k, v in result.items() if k not in {"quality", "traceback"}}
            if row["status"] == "pending":
                log.message("variant_paused", variant=task.id, **fields)
            elif row["status"] == "failed":
                log.message(
                    "variant_failed",
                    variant=task.id,
                    **fields,
                    traceback=result.get("traceback", ""),
                )
            else:
                log.message("variant_done", variant=task.id, **fields)
            write_table(out / TABLE, axes, rows)
            if bar is not None:
                bar.advance(row["status"], task.id)

        try:
            if client is not None:
                from fibsims.service.sweep.execute import run_tasks

                tasks = [_task(request, out, text, v) for v in pending]
                run_tasks(client, tasks, on_result)
        finally:
            write_table(out / TABLE, axes, rows)
            higher = higher_is_better(report.objective)
            front = write_pareto_plot(
                out / PLOT, points(rows, report.objective), report.objective, higher
            )
            report.front = [p.label for p in front]
            report.higher_is_better = higher
            report.wall_seconds = round(time.monotonic() - started, 3)
            log.message(
                "sweep_finished",
                done=sum(r["status"] == "done" for r in rows),
                failed=len(report.failed),
                pending=sum(r["status"] == "pending" for r in rows),
                wall_seconds=report.wall_seconds,
            )
    return report


def _task(request: SweepRequest, out: Path, text: str, variant: Variant) -> VariantTask:
    return VariantTask(
        id=variant.id,
        folder=str((out / variant.run_dir).absolute()),
        recipe_text=text,
        recipe_source=str(request.recipe),
        sets=variant.sets,
        seed=variant.seed,
        keep=request.keep,
        faults=request.faults,
    )


__all__ = ["SweepReport", "SweepRequest", "run_sweep"]
