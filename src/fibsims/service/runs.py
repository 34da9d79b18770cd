"""The run service: what ``fibsims run`` and ``fibsims resume`` do between flags and printing.

Everything that can be refused is refused before the instrument is touched, and a refused run
leaves nothing behind: the recipe, the folder (``--out``), the folder's lock (one process per
run), the faults, then the backend and preflight (ladder, time limit, disk). Only then are the
run's files written and the session run (:mod:`fibsims.service.session`).

Resume takes the folder's lock (a held lock is refused, naming its holder, before the folder's
contents are judged), reads the folder under it (:mod:`fibsims.service.folder`),
refuses an edited recipe (:mod:`fibsims.service.integrity`), cuts a torn journal tail, checks
every committed slice file against its journalled checksum, sets leftovers of an interrupted
write aside, and starts the engine at the first slice not committed, with the instrument clock
at the time the last committed slice ended (so a twin continues exactly as if never stopped).
A run interrupted while finalizing, or with every slice committed, is only finalized: the
instrument is not opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import fibsims
from fibsims.data.atomic import write_json_atomic
from fibsims.data.live import EventPublisher
from fibsims.data.slice_file import read_context
from fibsims.data.state_file import FINALIZING, read_json_object
from fibsims.engine import preflight
from fibsims.engine.context import RunContext
from fibsims.engine.journal import Journal
from fibsims.engine.plan import compile_plan
from fibsims.instrument.registry import InstrumentOptions, open_instrument
from fibsims.instrument.transport.security import ClientKeys, ServerKeys
from fibsims.recipe import Override, Recipe, parse_overrides, parse_recipe
from fibsims.recipe.source_file import read_recipe_text
from fibsims.service.faults import resolve_faults
from fibsims.service.finalize import (
    Finalized,
    check_slice_files,
    closing_summary,
    file_state_writer,
    finalize,
    remove_temporaries,
)
from fibsims.service.folder import RunFolder, RunFolderError, open_run_folder
from fibsims.service.integrity import checked_recipe, recipe_record
from fibsims.service.layout import RunLayout
from fibsims.service.lock import (
    LOCK_NAME,
    RunLock,
    RunLocked,
)
from fibsims.service.outdir import check_out_folder, make_run_folder, remove_refused
from fibsims.service.placement import Placement, place_stage
from fibsims.service.seeds import default_seed
from fibsims.service.session import RunReport, Session, check, execute
from fibsims.service.signals import Interrupted, RunControl, run_control

__all__ = ["ResumeRequest", "RunFolderError", "RunReport", "RunRequest", "resume_run", "start_run"]


def _tell(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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
    tell: Callable[[str], None] = _tell  # where the folder and notes are announced
    event_lines: TextIO | None = None  # --json-events: every event as a JSON line here
    overrides: tuple[str, ...] = ()  # --set path=value, applied to the recipe before validation


@dataclass(frozen=True)
class ResumeRequest:
    folder: Path
    progress: bool = True
    faults: tuple[str, ...] = ()
    publish: str | None = None
    publish_keys: ServerKeys | None = None
    link_keys: ClientKeys | None = None
    max_hours: float | None = None  # a new limits.max_hours for this run (kept for later ones)
    tell: Callable[[str], None] = _tell
    event_lines: TextIO | None = None


@contextlib.contextmanager
def _locked(folder: Path, command: str) -> Iterator[RunLock]:
    lock = RunLock(folder, command)
    try:
        lock.acquire()
    except RunLocked as error:
        raise RunFolderError(str(error)) from None
    except OSError as error:
        raise RunFolderError(f"cannot lock {folder}: {error.strerror or error}") from None
    try:
        yield lock
    finally:
        lock.release()


@contextlib.contextmanager
def _locked_run(layout: RunLayout, command: str) -> Iterator[RunFolder]:
    """The run in ``layout.folder``, read under its lock, which is held until the block ends.

    Why the lock is judged before the contents: ``fibsims run`` takes the folder's lock first
    and writes ``run.json`` only once its instrument is open (seconds later), so a folder whose
    lock a live process holds may not look like a run yet; it must be refused as in use, naming
    the holder, not as "not a run folder". A folder without a lock file is read first, so that
    a folder that is no run is refused without leaving a lock file in it; if reading it fails,
    the lock file is looked for again, in case a run took the folder meanwhile.
    """
    lock_file = layout.folder / LOCK_NAME
    if not lock_file.exists():
        try:
            open_run_folder(layout)
        except RunFolderError:
            if not lock_file.exists():
                raise
    with _locked(layout.folder, command):
        yield open_run_folder(layout)


def start_run(request: RunRequest) -> RunReport:
    """Run a recipe from its first slice into a new run folder."""
    with run_control() as control:
        text = read_recipe_text(request.recipe_path)
        overrides = parse_overrides(request.overrides)
        recipe = parse_recipe(text, str(request.recipe_path), overrides)
        if recipe.sites is not None:
            raise RunFolderError(
                f"{request.recipe_path} lists sites: run it with fibsims.service.sites.start "
                "(`fibsims run` does), which gives each site its own run folder"
            )
        seed = request.seed if request.seed is not None else default_seed(recipe)
        faults = resolve_faults(request.faults, recipe)
        folder, made = make_run_folder(request.out, request.runs_root, recipe.recipe)
        return start_in_folder(
            control,
            request,
            folder,
            made,
            text=text,
            recipe=recipe,
            seed=seed,
            faults=faults,
            overrides=overrides,
        )


def manifest_head(request: RunRequest, recipe: Recipe, seed: int) -> dict[str, Any]:
    """What every run's ``run.json`` (and a multi-site run's ``sites.json``) opens with: what
    was run, on what, with which seed, by which fibsims, when."""
    return {
        "recipe": recipe.recipe,
        "recipe_source": str(request.recipe_path),
        "seed": seed,
        "instrument": request.instrument,
        "truth": request.truth,
        "fibsims_version": fibsims.__version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def start_in_folder(
    control: RunControl,
    request: RunRequest,
    folder: Path,
    made: list[Path],
    *,
    text: str,
    recipe: Recipe,
    seed: int,
    faults: tuple[Mapping[str, Any], ...],
    placement: Placement | None = None,
    overrides: tuple[Override, ...] = (),
) -> RunReport:
    """Run ``recipe`` (its YAML ``text``, with ``overrides`` from ``--set`` applied) from its
    first slice in ``folder``, which this call made (with the levels ``made``) and removes
    again if the run is refused. ``placement`` makes it a site of a multi-site run
    (:mod:`fibsims.service.sites`)."""
    lock = RunLock(folder, "run")
    try:
        lock.acquire()
    except RunLocked as error:  # another process won the folder: touch nothing of it
        raise RunFolderError(str(error)) from None
    started = False
    try:
        check_out_folder(folder)  # again, under the lock: nobody got here first
        session = Session(
            plan=compile_plan(recipe),
            layout=RunLayout(folder),
            seed=seed,
            instrument_name=request.instrument,
            first_slice=0,
            start_time_s=placement.start_time_s if placement else 0.0,
            faults=faults,
            progress=request.progress,
            truth=request.truth,
            uncounted_s=placement.earlier_uncounted_s if placement else 0.0,
            max_hours=placement.max_hours if placement else None,
            publish=request.publish,
            publish_keys=request.publish_keys,
            link_keys=request.link_keys,
            placement=placement,
            event_lines=request.event_lines,
        )

        def create_files() -> None:
            nonlocal started
            layout = session.layout
            layout.recipe_copy.write_text(text, encoding="utf-8")
            write_json_atomic(
                layout.manifest,
                {
                    **manifest_head(request, recipe, seed),
                    **recipe_record(text, recipe, overrides),
                    **({"site": dict(placement.record)} if placement else {}),
                },
            )
            started = True  # from here on the folder is a run that resume can continue
            request.tell(f"run folder: {folder}  (follow it with `fibsims status {folder}`)")
            for override in overrides:
                request.tell(f"--set {override.spec} (recorded in run.json; resume keeps it)")

        return _open_and_run(session, control, create_files, request.tell)
    finally:
        if not started:
            remove_refused(folder, made)
        lock.release()


def resume_run(request: ResumeRequest) -> RunReport:
    """Continue a stopped run (paused, failed, stopped by its time limit, killed, or
    interrupted while finalizing) where it stopped."""
    with run_control() as control:
        return resume_in_folder(control, request)


def resume_in_folder(
    control: RunControl,
    request: ResumeRequest,
    placement: Placement | None = None,
    faults: tuple[Mapping[str, Any], ...] | None = None,
) -> RunReport:
    """``resume_run`` under the caller's signal handling; ``placement`` makes it a site of a
    multi-site run (:mod:`fibsims.service.sites`), which resolves its ``faults`` itself."""
    layout = RunLayout(request.folder)
    with _locked_run(layout, "resume") as run:
        state = run.effective_state
        if state in {"completed", "aborted"}:
            raise RunFolderError(
                f"the run in {layout.folder} is {state}; there is nothing to resume "
                "(start a new run with `fibsims run`)"
            )
        recipe = checked_recipe(run)
        notes = _repair(run, request.tell)
        run = open_run_folder(layout)  # as repaired
        if len(run.commits) > recipe.volume.slices:
            raise RunFolderError(
                f"{layout.journal} commits {len(run.commits)} slices but the recipe plans "
                f"{recipe.volume.slices}; the folder was edited"
            )
        pending = run.state.get("outcome") if run.state.get("state") == FINALIZING else None
        if len(run.commits) == recipe.volume.slices or pending in {"completed", "aborted"}:
            outcome = pending if pending in {"completed", "aborted"} else "completed"
            return _finalize_only(run, str(outcome), notes, control)
        missing = check_slice_files(run)
        for index, problem in missing.items():
            note = (
                f"slice {index}: {problem}; its sample is milled away, so it is flagged "
                "missing in run.h5 (restore the file before the run ends to keep it)"
            )
            notes.append(note)
            request.tell(f"warning: {note}")
        _set_aside_leftovers(layout, len(run.commits))
        context = _committed_context(run, missing)
        session = Session(
            plan=compile_plan(recipe),
            layout=layout,
            seed=run.manifest.seed,
            instrument_name=run.manifest.instrument,
            first_slice=len(run.commits),
            start_time_s=run.last_commit_t_s,
            faults=resolve_faults(request.faults, recipe) if faults is None else faults,
            progress=request.progress,
            truth=run.manifest.truth,
            max_hours=request.max_hours if request.max_hours is not None else run.max_hours,
            context=context,
            uncounted_s=run.uncounted_s + (placement.earlier_uncounted_s if placement else 0),
            publish=request.publish,
            publish_keys=request.publish_keys,
            link_keys=request.link_keys,
            notes=tuple(notes),
            event_lines=request.event_lines,
            placement=placement,
        )
        return _open_and_run(session, control, lambda: None, request.tell)


def _committed_context(run: RunFolder, damaged: dict[int, str]) -> RunContext | None:
    """The context the last committed slice left: its values from the journal, its arrays
    (the fiducial's reference crops) from that slice's file. If the file is damaged the
    reference is taken afresh at the first resumed slice (said in the log)."""
    record = run.last_context
    if record is None:
        return None
    last = run.sources[-1]
    if last.index not in damaged:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return read_context(last.path)
    context = RunContext.from_record(record)
    context.fiducial = None
    return context


def _repair(run: RunFolder, tell: Callable[[str], None]) -> list[str]:
    """Cut a torn journal tail and drop a stale abort or pause request; say what was done."""
    notes = []
    found = Journal(run.layout.journal).repair()
    if found.torn:
        notes.append(
            f"the journal ended in {len(found.torn)} damaged bytes (a write cut by a kill or "
            "power cut); they were cut and kept beside it as journal.jsonl.torn-*"
        )
    elif found.missing_newline:
        notes.append("the journal's last record had lost its newline; it was restored")
    if run.layout.abort_request.exists():
        run.layout.abort_request.unlink()
        notes.append("an abort request left by an earlier `fibsims abort` was dropped")
    if run.layout.pause_request.exists():
        run.layout.pause_request.unlink()
        notes.append("a pause request left by an earlier `fibsims pause` was dropped")
    for note in notes:
        tell(f"note: {note}")
    return notes


def _finalize_only(
    run: RunFolder, outcome: str, notes: list[str], control: RunControl
) -> RunReport:
    """Every slice is committed (or the run was being finalized): write and verify run.h5
    and record the outcome; the instrument is not needed. Signals act as in a run's own
    finalizing: one Ctrl-C or SIGTERM lets it finish, a second Ctrl-C stops at once."""
    previous = read_json_object(run.layout.summary) or {}
    report = RunReport(status=outcome, layout=run.layout, notes=notes)

    def write_summary(done: Finalized) -> None:
        report.summary = closing_summary(run, done, previous)

    control.finalizing()
    try:
        finalize(run, outcome, file_state_writer(run), write_summary, between=control.check)
    except Interrupted as error:
        raise Interrupted(
            f"{error}; the data is safe: `fibsims resume {run.layout.folder}` finishes the run"
        ) from None
    return report


def _set_aside_leftovers(layout: RunLayout, first_uncommitted: int) -> None:
    """Delete torn temporaries; keep complete but uncommitted slice files in superseded/."""
    remove_temporaries(layout)
    if not layout.slices.exists():
        return
    for path in sorted(layout.slices.glob("slice_*.h5")):
        try:
            index = int(path.stem.split("_")[1])
        except (IndexError, ValueError):
            continue  # not ours; left alone
        if index >= first_uncommitted:
            layout.superseded.mkdir(exist_ok=True)
            path.rename(layout.superseded / f"{path.stem}-uncommitted-{time.time_ns()}.h5")


def _open_and_run(
    session: Session,
    control: RunControl,
    create_files: Callable[[], None],
    tell: Callable[[str], None] = _tell,
) -> RunReport:
    recipe = session.plan.recipe
    instrument = open_instrument(
        session.instrument_name,
        InstrumentOptions(
            seed=session.seed,
            sample=recipe.sample.model_dump(mode="json"),
            start_time_s=session.start_time_s,
            faults=session.faults,
            sample_state=session.context.sample_state if session.context else None,
        ),
        keys=session.link_keys,
    )
    publisher: EventPublisher | None = None
    try:
        placement = session.placement
        problems = check(session, instrument)  # before anything moves, the stage included
        if not problems and placement is not None:
            problems = place_stage(placement, session.context, instrument)
        if problems:
            raise preflight.PreflightError(problems)
        cautions = preflight.warnings(session.plan, instrument)
        for caution in cautions:
            tell(f"warning: {caution}")
        session = replace(session, notes=(*session.notes, *cautions))
        publisher = (
            EventPublisher(session.publish, keys=session.publish_keys) if session.publish else None
        )
        create_files()
        return execute(session, instrument, control, publisher)
    finally:
        with contextlib.suppress(Exception):  # every exit blanks, even one the engine never saw
            instrument.column.blank()
        if publisher is not None:
            publisher.close()
        instrument.close()
