"""One session of a run: preflight, the engine with its sinks, then finalizing.

``run`` and ``resume`` both end here once they have a folder, its lock and an open instrument:
the session journals its start, wires the engine to the slice store, journal, event log, state
file, summary and progress bar, runs, and finalizes (:mod:`fibsims.service.finalize`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from fibsims.data.atomic import write_json_atomic
from fibsims.data.event_lines import JsonEventLines
from fibsims.data.event_log import EventLog
from fibsims.data.incidents import Incidents
from fibsims.data.live import EventPublisher
from fibsims.data.live_products import LiveProducts
from fibsims.data.progress import ProgressBar
from fibsims.data.quality import li_map_quality, loop_quality
from fibsims.data.run_file import step_totals
from fibsims.data.slice_file import SliceFileStore
from fibsims.data.state_file import StateFile, read_json_object, read_state
from fibsims.data.summary import SummaryCollector
from fibsims.data.truth import TruthCollector
from fibsims.engine import preflight, suspenders
from fibsims.engine.context import RunContext
from fibsims.engine.events import EventSink
from fibsims.engine.journal import Journal
from fibsims.engine.plan import Plan, product_steps
from fibsims.engine.runner import RunEngine
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.transport.security import ClientKeys, ServerKeys
from fibsims.service.allocator import keep_freed_memory
from fibsims.service.disk_check import disk_problem
from fibsims.service.finalize import Finalized, FinalizeFailed, finalize
from fibsims.service.folder import open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.placement import Placement
from fibsims.service.process import ProcessId
from fibsims.service.signals import Interrupted, RunControl

GIB = 2**30


@dataclass(frozen=True)
class Session:
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
    max_hours: float | None = None
    context: RunContext | None = None
    """The run context the last committed slice left (a resumed run), else None."""
    uncounted_s: float = 0.0
    """Instrument time earlier sessions spent after their last commit (see RunEngine)."""
    publish: str | None = None
    publish_keys: ServerKeys | None = None
    link_keys: ClientKeys | None = None
    notes: tuple[str, ...] = ()
    """Things found on the way in (a torn journal cut, damaged slices), for the log."""
    placement: Placement | None = None
    """A site of a multi-site run: its stage position, clock and checks (service.sites)."""
    event_lines: TextIO | None = None
    """Where ``--json-events`` writes every event as one JSON line (None: nowhere)."""


@dataclass
class RunReport:
    status: str
    layout: RunLayout
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


def check(session: Session, instrument: Instrument) -> list[str]:
    """Everything that makes the session impossible, before anything moves."""
    plan, recipe = session.plan, session.plan.recipe
    problems = preflight.check(
        plan,
        instrument,
        first_slice=session.first_slice,
        start_s=session.start_time_s + session.uncounted_s,
        max_hours=session.max_hours,
        truth=session.truth,
    )
    if session.truth and instrument.truth is None:
        problems.append(
            f"--truth: the {session.instrument_name!r} instrument has no ground truth "
            "(only simulated instruments do); drop --truth"
        )
    if recipe.suspenders.free_disk.enabled:
        problems += _disk_problems(session, instrument)
    if session.placement is not None and session.placement.check is not None:
        problems += session.placement.check(session, instrument)
    return problems


def _disk_problems(session: Session, instrument: Instrument) -> list[str]:
    problem = disk_problem(
        session.plan,
        instrument.costs,
        session.layout.folder,
        first_slice=session.first_slice,
        truth=session.truth,
    )
    return [] if problem is None else [problem]


def live_products(session: Session) -> LiveProducts:
    """The session's run.h5 and sims.h5 written as it goes; a resumed session first stacks
    the slices committed before it. sims.h5 copies the raster and image it would be made of
    from run.h5 (``se_image`` and ``sims_raster``, else the first of each by name)."""
    layout = session.layout
    earlier = open_run_folder(layout).sources if session.first_slice else []
    kinds: dict[str, list[str]] = {"se_image": [], "sims_raster": []}
    for name, step in product_steps(session.plan.recipe).items():
        kinds.setdefault(step.kind, []).append(name)
    images, rasters = sorted(kinds["se_image"]), sorted(kinds["sims_raster"])
    image = "se_image" if "se_image" in images or not images else images[0]
    raster = "sims_raster" if "sims_raster" in rasters or not rasters else rasters[0]
    sims = (layout.sims_file, raster, image) if rasters else None
    return LiveProducts(layout.run_file, session.plan.recipe.volume.slices, sims, earlier)


def _count(record: dict[str, Any], key: str) -> float:
    """A non-negative number from an earlier summary; 0 when absent or not a number."""
    value = record.get(key)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    return float(value) if ok else 0.0


def _abort_asked(control: RunControl, layout: RunLayout) -> bool:
    return control.abort_requested or layout.abort_request.exists()


def outside_requests(
    layout: RunLayout, control: RunControl | None = None
) -> Callable[[], str | None]:
    """The engine's poll at every safe point for requests from another process: an abort
    (returned as its reason) and, given ``control``, a pause (passed to the engine, which
    honours it at the same safe point). Files, not signals: they work on every platform."""

    def poll() -> str | None:
        if layout.abort_request.exists():
            return "aborted by `fibsims abort`"
        if control is not None and control.engine is not None and layout.pause_request.exists():
            control.engine.request_pause("paused by `fibsims pause`")
        return None

    return poll


def execute(
    session: Session,
    instrument: Instrument,
    control: RunControl,
    publisher: EventPublisher | None = None,
) -> RunReport:
    """Run the session's slices and finalize; the caller holds the run's lock."""
    keep_freed_memory()
    layout, recipe = session.layout, session.plan.recipe
    previous = read_json_object(layout.summary) or {}
    journal = Journal(layout.journal)
    started: dict[str, Any] = {
        "entry": "session_started",
        "first_slice": session.first_slice,
        "start_time_s": session.start_time_s,
        "wall_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if session.max_hours is not None:
        started["max_hours"] = session.max_hours
    journal.append(started)
    collector = TruthCollector(instrument.truth, maps=session.truth) if instrument.truth else None
    live = live_products(session)
    store = SliceFileStore(layout.slices, truth=collector, on_written=live.written)
    log = EventLog(layout.log)
    for note in session.notes:
        log.message("session_note", note=note, t_s=session.start_time_s)
    summary = SummaryCollector()
    earlier = read_state(layout.state) or {}  # the run's state as the last session left it
    state = StateFile(
        layout.state,
        recipe.volume.slices,
        session.first_slice,
        owner=ProcessId.current().as_record(),
        incidents=Incidents.from_record(earlier.get("incidents")),
    )
    sinks: list[EventSink] = [*([collector] if collector else []), log, summary, state, live]
    if session.progress:
        sinks.append(ProgressBar())
    if session.event_lines is not None:
        sinks.append(JsonEventLines(session.event_lines))
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
            suspenders=suspenders.from_recipe(
                recipe.suspenders, store.free_and_slice_bytes, recipe.volume.slices
            ),
            max_hours=session.max_hours,
            abort_requested=outside_requests(layout, control),
            uncounted_s=session.uncounted_s,
            context=session.context,
            truth=session.truth,
        )
        control.attach(engine)
        outcome = engine.run(first_slice=session.first_slice)
        control.finalizing()
        status = outcome.status.value
        if status != "completed" and _abort_asked(control, layout):
            status = "aborted"

        def write_summary(done: Finalized) -> None:
            payload = summary.as_dict(
                seed=session.seed,
                instrument=session.instrument_name,
                wall_seconds=round(
                    _count(previous, "wall_seconds") + time.monotonic() - wall_start, 3
                ),
                sessions=int(_count(previous, "sessions")) + 1,
                folder=str(layout.folder),
                files=done.files(layout),
            )
            payload["status"] = done.status
            payload["incidents"] = state.incidents.as_dict()
            payload["slices_missing"] = sorted(done.missing)
            if done.run_file_note:
                payload["run_file_note"] = done.run_file_note
            if done.sims_file_note:
                payload["sims_file_note"] = done.sims_file_note
            if done.run_file_current:  # whole-run step times, every session
                payload.update(step_totals(done.run_file))
            if done.run_file_current:
                quality = {
                    **(loop_quality(done.run_file) or {}),
                    **((li_map_quality(done.run_file) or {}) if session.truth else {}),
                }
                if quality:
                    payload["quality"] = quality
            write_json_atomic(layout.summary, payload)
            report.summary = payload

        report = RunReport(status=status, layout=layout, notes=list(session.notes))
        try:
            finalize(
                open_run_folder(layout),
                status,
                state.write,
                write_summary,
                end_t_s=outcome.t_s,
                between=control.check,
                live=live,
            )
            if status in {"paused", "failed"} and _abort_asked(control, layout):
                status = report.status = "aborted"  # asked while finalizing: once more
                finalize(open_run_folder(layout), status, state.write, write_summary)
        except Interrupted as error:
            raise Interrupted(
                f"{error}; the data is safe: `fibsims resume {layout.folder}` finishes the run"
            ) from None
        with contextlib.suppress(OSError):
            layout.abort_request.unlink(missing_ok=True)
        return report
    except (FinalizeFailed, Interrupted):
        raise  # foreseen: the caller tells the user
    except Exception as error:  # a fibsims bug outside the engine: logged, then reported
        log.message("service_fault", error=repr(error), traceback=traceback.format_exc())
        raise
    finally:
        with contextlib.suppress(OSError):  # honoured, or too late: never pauses a later resume
            layout.pause_request.unlink(missing_ok=True)
        live.close()
        log.close()
