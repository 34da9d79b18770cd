"""The run service: what ``fibsims run`` and ``fibsims resume`` do between flags and printing.

It loads the recipe, lays out the run folder, opens the instrument backend by name, wires the
engine to its sinks (slice store, journal, event log, state file, summary, progress bar),
installs the signal handlers, runs, and consolidates the run file.

Resume opens the same folder again: the journal says which slices are done, the instrument is
opened at the instrument time the last committed slice ended (so a twin continues exactly as
if never stopped), leftovers of an interrupted write are set aside, and the engine starts at the
first slice not committed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fibsims
from fibsims.data.atomic import TMP_SUFFIX, write_json_atomic
from fibsims.data.event_log import EventLog
from fibsims.data.live import EventPublisher
from fibsims.data.progress import ProgressBar
from fibsims.data.quality import li_map_quality
from fibsims.data.run_file import consolidate, step_totals
from fibsims.data.slice_file import SliceFileStore, slice_file_name
from fibsims.data.state_file import StateFile, read_state
from fibsims.data.summary import SummaryCollector
from fibsims.engine import preflight, suspenders
from fibsims.engine.events import EventSink
from fibsims.engine.journal import Journal
from fibsims.engine.plan import Plan, compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.registry import InstrumentOptions, open_instrument
from fibsims.instrument.transport.security import ClientKeys, ServerKeys
from fibsims.recipe import Recipe, load_recipe
from fibsims.service.faults import resolve_faults
from fibsims.service.folder import RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.signals import interrupt_handlers

__all__ = ["RunFolderError", "RunReport", "RunRequest", "resume_run", "start_run"]


@dataclass(frozen=True)
class RunRequest:
    recipe_path: Path
    out: Path | None = None
    seed: int | None = None
    instrument: str = "sim"
    progress: bool = True
    runs_root: Path = Path("runs")
    faults: tuple[str, ...] = ()  # fault injection specs (twin only), see service.faults
    truth: bool = False  # record the ground truth of every acquired face (twin only)
    publish: str | None = None  # address to publish live events on (fibsims watch)
    publish_keys: ServerKeys | None = None  # CurveZMQ keys to publish beyond loopback
    link_keys: ClientKeys | None = None  # CurveZMQ keys when --instrument is an address


@dataclass(frozen=True)
class ResumeRequest:
    folder: Path
    progress: bool = True
    faults: tuple[str, ...] = ()
    publish: str | None = None
    publish_keys: ServerKeys | None = None
    link_keys: ClientKeys | None = None


@dataclass
class RunReport:
    status: str
    layout: RunLayout
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == RunState.COMPLETED.value


@dataclass(frozen=True)
class _Session:
    """One process's share of a run: where it starts and with what."""

    plan: Plan
    layout: RunLayout
    seed: int
    instrument_name: str
    first_slice: int
    start_time_s: float
    faults: tuple[Mapping[str, Any], ...]
    progress: bool
    truth: bool
    publish: str | None = None
    publish_keys: ServerKeys | None = None
    link_keys: ClientKeys | None = None


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


def start_run(request: RunRequest) -> RunReport:
    """Run a recipe from its first slice into a new run folder.

    Everything that can be refused is checked before the folder is made: the recipe, the fault
    specs, the backend (and its sample section), preflight of the plan against the instrument,
    and the folder itself, so a refused run leaves nothing behind.
    """
    recipe = load_recipe(request.recipe_path)
    seed = request.seed if request.seed is not None else default_seed(recipe)
    layout = RunLayout(_new_folder(request, recipe))
    if layout.journal.exists() or layout.run_file.exists() or layout.manifest.exists():
        raise RunFolderError(
            f"{layout.folder} already holds a run; resume it with `fibsims resume "
            f"{layout.folder}`, or choose another --out"
        )
    session = _Session(
        plan=compile_plan(recipe),
        layout=layout,
        seed=seed,
        instrument_name=request.instrument,
        first_slice=0,
        start_time_s=0.0,
        faults=resolve_faults(request.faults, recipe),
        progress=request.progress,
        truth=request.truth,
        publish=request.publish,
        publish_keys=request.publish_keys,
        link_keys=request.link_keys,
    )

    def create_folder() -> None:
        layout.folder.mkdir(parents=True, exist_ok=True)
        layout.recipe_copy.write_text(request.recipe_path.read_text(encoding="utf-8"))
        write_json_atomic(
            layout.manifest,
            {
                "recipe": recipe.recipe,
                "recipe_source": str(request.recipe_path),
                "seed": seed,
                "instrument": request.instrument,
                "truth": request.truth,
                "fibsims_version": fibsims.__version__,
                "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )

    return _open_and_run(session, create_folder)


def resume_run(request: ResumeRequest) -> RunReport:
    """Continue a stopped run (paused, failed, or interrupted by a kill) where it stopped."""
    layout = RunLayout(request.folder)
    run = open_run_folder(layout)
    if run.alive:
        raise RunFolderError(
            f"the run in {layout.folder} is still going (process {run.state.get('pid')}); "
            f"press Ctrl-C there to pause it, or `fibsims abort {layout.folder}`"
        )
    state = run.effective_state
    if state in {"completed", "aborted"}:
        raise RunFolderError(
            f"the run in {layout.folder} is {state}; there is nothing to resume "
            "(start a new run with `fibsims run`)"
        )
    recipe = load_recipe(layout.recipe_copy)
    _check_committed_files(layout, run.committed)
    _set_aside_leftovers(layout, len(run.committed))
    session = _Session(
        plan=compile_plan(recipe),
        layout=layout,
        seed=int(run.manifest["seed"]),
        instrument_name=str(run.manifest["instrument"]),
        first_slice=len(run.committed),
        start_time_s=run.last_commit_t_s,
        faults=resolve_faults(request.faults, recipe),
        progress=request.progress,
        truth=bool(run.manifest.get("truth", False)),
        publish=request.publish,
        publish_keys=request.publish_keys,
        link_keys=request.link_keys,
    )
    return _open_and_run(session, lambda: None)


def _check_committed_files(layout: RunLayout, committed: Sequence[int]) -> None:
    missing = [i for i in committed if not (layout.slices / slice_file_name(i)).exists()]
    if missing:
        raise RunFolderError(
            f"the journal lists slices {missing[:5]} as committed but their files are gone "
            f"from {layout.slices}; restore them before resuming"
        )


def _set_aside_leftovers(layout: RunLayout, first_uncommitted: int) -> None:
    """Delete torn temporaries; keep complete but uncommitted slice files in superseded/."""
    if not layout.slices.exists():
        return
    for path in layout.slices.glob(f"*{TMP_SUFFIX}"):
        path.unlink()
    for path in sorted(layout.slices.glob("slice_*.h5")):
        index = int(path.stem.split("_")[1])
        if index >= first_uncommitted:
            layout.superseded.mkdir(exist_ok=True)
            path.rename(layout.superseded / f"{path.stem}-uncommitted-{time.time_ns()}.h5")


def _open_and_run(session: _Session, create_folder: Any) -> RunReport:
    recipe = session.plan.recipe
    instrument = open_instrument(
        session.instrument_name,
        InstrumentOptions(
            seed=session.seed,
            sample=recipe.sample.model_dump(mode="json"),
            start_time_s=session.start_time_s,
            faults=session.faults,
        ),
        keys=session.link_keys,
    )
    publisher: EventPublisher | None = None
    try:
        problems = preflight.check(session.plan, instrument)
        if session.truth and instrument.truth is None:
            problems.append(
                f"--truth: the {session.instrument_name!r} instrument has no ground truth "
                "(only simulated instruments do); drop --truth"
            )
        if problems:
            raise preflight.PreflightError(problems)
        publisher = (
            EventPublisher(session.publish, keys=session.publish_keys) if session.publish else None
        )
        create_folder()
        return _execute(session, instrument, publisher)
    finally:
        if publisher is not None:
            publisher.close()
        instrument.close()


def _execute(
    session: _Session, instrument: Instrument, publisher: EventSink | None = None
) -> RunReport:
    layout, recipe = session.layout, session.plan.recipe
    previous = read_state(layout.summary) or {}
    journal = Journal(layout.journal)
    journal.append(
        {
            "entry": "session_started",
            "first_slice": session.first_slice,
            "start_time_s": session.start_time_s,
            "wall_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
    store = SliceFileStore(layout.slices)
    log = EventLog(layout.log)
    summary = SummaryCollector()
    sinks: list[EventSink] = [
        log,
        summary,
        StateFile(layout.state, recipe.volume.slices, session.first_slice),
    ]
    if session.progress:
        sinks.append(ProgressBar())
    if publisher is not None:
        sinks.append(publisher)
    wall_start = time.monotonic()
    try:
        engine = RunEngine(
            session.plan,
            instrument,
            store=store,
            journal=journal,
            sinks=sinks,
            seed=session.seed,
            suspenders=suspenders.from_recipe(recipe.suspenders, store.free_and_slice_bytes),
            collect_truth=session.truth,
        )
        with interrupt_handlers(engine):
            outcome = engine.run(first_slice=session.first_slice)
        run_file = _consolidate(layout, recipe, session, outcome.status)
    finally:
        log.close()
    totals = step_totals(run_file)
    payload = summary.as_dict(
        seed=session.seed,
        instrument=session.instrument_name,
        wall_seconds=round(
            float(previous.get("wall_seconds", 0.0)) + time.monotonic() - wall_start, 3
        ),
        sessions=int(previous.get("sessions", 0)) + 1,
        folder=str(layout.folder),
        files={"run": str(run_file), "log": str(layout.log), "summary": str(layout.summary)},
    )
    payload.update(totals)  # whole-run step times, across every session
    quality = li_map_quality(run_file) if session.truth else None
    if quality is not None:
        payload["quality"] = quality
    write_json_atomic(layout.summary, payload)
    return RunReport(status=outcome.status.value, layout=layout, summary=payload)


def _consolidate(layout: RunLayout, recipe: Recipe, session: _Session, status: RunState) -> Path:
    committed = Journal(layout.journal).committed_slices()
    slice_files = [layout.slices / slice_file_name(i) for i in committed]
    attrs = {
        "fibsims_version": fibsims.__version__,
        "recipe": layout.recipe_copy.read_text(encoding="utf-8"),
        "recipe_name": recipe.recipe,
        "seed": session.seed,
        "instrument": session.instrument_name,
        "status": status.value,
        "slices_planned": recipe.volume.slices,
        "slice_thickness_nm": recipe.volume.slice_thickness_nm,
        "face_width_um": recipe.volume.face_width_um,
        "face_height_um": recipe.volume.face_height_um,
    }
    consolidate(layout.run_file, slice_files, attrs)
    if status is RunState.COMPLETED:
        shutil.rmtree(layout.slices, ignore_errors=True)
    return layout.run_file
