"""The run service: everything ``fibsims run`` does between parsing flags and printing.

It loads the recipe, lays out the run folder, opens the instrument backend by name, wires the
engine to its sinks (slice store, journal, event log, summary, progress bar), runs, and
consolidates the run file. The CLI stays a thin shell around :func:`start_run`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fibsims
from fibsims.data.atomic import write_json_atomic
from fibsims.data.event_log import EventLog
from fibsims.data.progress import ProgressBar
from fibsims.data.run_file import consolidate
from fibsims.data.slice_file import SliceFileStore
from fibsims.data.summary import SummaryCollector
from fibsims.engine import preflight
from fibsims.engine.events import EventSink
from fibsims.engine.journal import Journal
from fibsims.engine.plan import Plan, compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.registry import InstrumentOptions, open_instrument
from fibsims.recipe import Recipe, load_recipe
from fibsims.service.layout import RunLayout


class RunFolderError(Exception):
    """The output folder cannot take a new run."""


@dataclass(frozen=True)
class RunRequest:
    recipe_path: Path
    out: Path | None = None
    seed: int | None = None
    instrument: str = "sim"
    progress: bool = True
    runs_root: Path = Path("runs")


@dataclass
class RunReport:
    status: str
    layout: RunLayout
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == RunState.COMPLETED.value


def default_seed(recipe: Recipe) -> int:
    """The run seed when ``--seed`` is not given: the twin sample's seed, else 0."""
    return recipe.sample.twin.seed if recipe.sample.twin is not None else 0


def _new_folder(request: RunRequest, recipe: Recipe) -> Path:
    if request.out is not None:
        return request.out
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    folder = request.runs_root / f"{recipe.recipe}-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = request.runs_root / f"{recipe.recipe}-{stamp}-{suffix}"
    return folder


def _prepare(layout: RunLayout) -> None:
    if layout.journal.exists() or layout.run_file.exists():
        raise RunFolderError(
            f"{layout.folder} already holds a run; choose another --out (or delete that folder)"
        )
    layout.folder.mkdir(parents=True, exist_ok=True)


def start_run(request: RunRequest) -> RunReport:
    """Run a recipe from its first slice into a new run folder.

    Everything that can be refused is checked before the folder is made: the recipe, the
    backend (and its sample section), preflight of the plan against the instrument, and the
    folder itself, so a refused run leaves nothing behind.
    """
    recipe = load_recipe(request.recipe_path)
    seed = request.seed if request.seed is not None else default_seed(recipe)
    plan = compile_plan(recipe)
    instrument = open_instrument(
        request.instrument,
        InstrumentOptions(seed=seed, sample=recipe.sample.model_dump(mode="json")),
    )
    try:
        problems = preflight.check(plan, instrument)
        if problems:
            raise preflight.PreflightError(problems)
        layout = RunLayout(_new_folder(request, recipe))
        _prepare(layout)
        layout.recipe_copy.write_text(request.recipe_path.read_text(encoding="utf-8"))
        write_json_atomic(
            layout.manifest,
            {
                "recipe": recipe.recipe,
                "recipe_source": str(request.recipe_path),
                "seed": seed,
                "instrument": request.instrument,
                "fibsims_version": fibsims.__version__,
                "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
        return _execute(plan, instrument, layout, seed, request)
    finally:
        instrument.close()


def _execute(
    plan: Plan, instrument: Instrument, layout: RunLayout, seed: int, request: RunRequest
) -> RunReport:
    recipe = plan.recipe
    log = EventLog(layout.log)
    summary = SummaryCollector()
    sinks: list[EventSink] = [log, summary]
    if request.progress:
        sinks.append(ProgressBar())
    wall_start = time.monotonic()
    try:
        engine = RunEngine(
            plan,
            instrument,
            store=SliceFileStore(layout.slices),
            journal=Journal(layout.journal),
            sinks=sinks,
            seed=seed,
        )
        outcome = engine.run()
        run_file = _consolidate(layout, recipe, seed, request.instrument, outcome.status)
    finally:
        log.close()
    files = {"run": run_file, "log": layout.log, "summary": layout.summary}
    payload = summary.as_dict(
        seed=seed,
        instrument=request.instrument,
        wall_seconds=round(time.monotonic() - wall_start, 3),
        folder=str(layout.folder),
        files={k: str(v) for k, v in files.items() if v is not None},
    )
    write_json_atomic(layout.summary, payload)
    return RunReport(status=outcome.status.value, layout=layout, summary=payload)


def _consolidate(
    layout: RunLayout, recipe: Recipe, seed: int, instrument: str, status: RunState
) -> Path | None:
    committed = Journal(layout.journal).committed_slices()
    slice_files = [layout.slices / SliceFileStore.file_name(i) for i in committed]
    attrs = {
        "fibsims_version": fibsims.__version__,
        "recipe": layout.recipe_copy.read_text(encoding="utf-8"),
        "recipe_name": recipe.recipe,
        "seed": seed,
        "instrument": instrument,
        "status": status.value,
        "slices_planned": recipe.volume.slices,
        "slice_thickness_nm": recipe.volume.slice_thickness_nm,
        "face_width_um": recipe.volume.face_width_um,
        "face_height_um": recipe.volume.face_height_um,
    }
    consolidate(layout.run_file, slice_files, attrs)
    if status is RunState.COMPLETED:
        for path in slice_files:
            path.unlink()
        layout.slices.rmdir()
    return layout.run_file
