"""Finalizing a session: run.h5 durable and verified first, and only then how the run ended.

Finalizing is a state of its own (``finalizing`` in state.json, with the outcome it will have)
because it takes seconds on a long run and anything can happen meanwhile: a kill, a full disk,
a second Ctrl-C. Each step is durable before the next begins:

1. state.json says ``finalizing``;
2. run.h5 is put in place: the one the session wrote as it went (``data.live_products``),
   completed, if it holds exactly the journal's slices (stacked from the bytes each receipt
   was made of, every row read back as it was written; the end checks its slice table against
   the journal); else it is made here from the slice files: each is checked against the
   checksum journalled when it was written, a damaged or lost one is flagged missing (its
   sample is milled away, it cannot be redone), and run.h5 is written atomically, reopened and
   verified (slice count, the journal's checksums, every stacked row read back). sims.h5
   follows the same way;
3. for a completed or aborted run, damaged files go to ``superseded/`` and ``slices/`` is
   removed;
4. summary.json is written, then the journal's ``session_ended`` record: from that moment the
   run *is* completed (or paused, aborted, failed); state.json follows.

An interruption anywhere leaves a run that ``resume`` (or ``abort``) finalizes again. A run.h5
that already holds exactly the journal's slices with this outcome is not written twice, so a
kill after ``slices/`` was (partly) removed loses nothing.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fibsims.data.atomic import TMP_SUFFIX, write_json_atomic
from fibsims.data.incidents import Incidents
from fibsims.data.live_products import LiveProducts
from fibsims.data.run_file import (
    RunFileError,
    consolidate,
    read_attrs,
    run_file_matches,
    step_totals,
)
from fibsims.data.sims_file import refresh_sims_file
from fibsims.data.slice_file import damage
from fibsims.data.state_file import FINALIZING, read_state
from fibsims.engine.journal import Journal
from fibsims.service.folder import RunFolder
from fibsims.service.layout import RunLayout
from fibsims.service.outdir import free_bytes

REMOVES_SLICES = ("completed", "aborted")


class FinalizeFailed(Exception):
    """run.h5 could not be written or verified; the run stays ``finalizing``, data safe."""


@dataclass(frozen=True)
class Finalized:
    status: str
    run_file: Path
    missing: dict[int, str]
    """Committed slices whose data is not in run.h5, with why."""
    run_file_note: str = ""
    """Why run.h5 was not brought up to date (a paused run on a full disk); empty when it was.
    A run that will resume keeps its data in ``slices/``, so that only delays the snapshot."""

    sims_file_note: str = ""
    """Why sims.h5 (the TofDAQ-layout copy of the SIMS data) was not written; empty when it
    was. Not a failure of the run: its data is in run.h5 either way."""

    @property
    def run_file_current(self) -> bool:
        return not self.run_file_note and self.run_file.exists()

    def files(self, layout: RunLayout) -> dict[str, str]:
        """The run's files for summary.json: run.h5, sims.h5 when there is one, the log."""
        found = {"run": str(self.run_file)}
        if layout.sims_file.exists() and not self.sims_file_note:
            found["sims"] = str(layout.sims_file)
        return {**found, "log": str(layout.log)}


StateWriter = Callable[..., None]


def file_state_writer(run: RunFolder) -> StateWriter:
    """Writes state.json for a process that has no live state sink (abort, finalize-only)."""

    def write(**changes: Any) -> None:
        state = read_state(run.layout.state) or dict(run.state)
        state.update(changes)
        write_json_atomic(run.layout.state, state)

    return write


def run_attrs(run: RunFolder, status: str) -> dict[str, Any]:
    """run.h5's root attributes, from run.json (the recipe as the run started)."""
    manifest = run.manifest
    model = manifest.recipe_model or {}
    volume = _section(model, "volume")
    sample = _section(model, "sample")
    instrument = _section(model, "instrument")
    extra = manifest.model_extra or {}
    attrs: dict[str, Any] = {
        "fibsims_version": str(extra.get("fibsims_version", "")),
        "recipe": str(extra.get("recipe_text", "")),
        "recipe_name": manifest.recipe,
        "seed": manifest.seed,
        "instrument": manifest.instrument,
        "sample_name": str(sample.get("name", "")),
        "created_utc": str(extra.get("created_utc", "")),
        "status": status,
        "slices_planned": run.slices_planned,
    }
    if manifest.overrides:  # the recipe attribute is the file; these changed it (--set)
        attrs["recipe_overrides"] = "\n".join(manifest.overrides)
    for key in ("slice_thickness_nm", "face_width_um", "face_height_um"):
        if isinstance(volume.get(key), int | float):
            attrs[key] = float(volume[key])
    if isinstance(instrument.get("ion_species"), str):
        attrs["ion_species"] = instrument["ion_species"]
    if isinstance(instrument.get("voltage_kv"), int | float):
        attrs["voltage_kv"] = float(instrument["voltage_kv"])
    return attrs


def _section(model: dict[str, Any], key: str) -> dict[str, Any]:
    """A section of the recipe run.json recorded; empty if run.json holds something else."""
    value = model.get(key)
    return value if isinstance(value, dict) else {}


def closing_summary(
    run: RunFolder, done: Finalized, previous: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    """summary.json for a finalization without a live engine (abort, resume that only
    finalizes): the last session's summary, brought up to date."""
    payload = {
        **previous,
        "status": done.status,
        "slices_completed": len(run.commits),
        "slices_planned": run.slices_planned,
        "slices_missing": sorted(done.missing),
        "files": done.files(run.layout),
        **changes,
    }
    payload.setdefault("simulated_seconds", run.last_commit_t_s)
    payload["incidents"] = Incidents.from_record(run.state.get("incidents")).as_dict()
    if done.sims_file_note:
        payload["sims_file_note"] = done.sims_file_note
    if done.run_file_current:
        payload.update(step_totals(done.run_file))
    write_json_atomic(run.layout.summary, payload)
    return payload


def check_slice_files(run: RunFolder) -> dict[int, str]:
    """Committed slices whose files are gone or damaged since they were journalled."""
    return {s.index: problem for s in run.sources if (problem := damage(s.path, s.receipt))}


def finalize(
    run: RunFolder,
    outcome: str,
    write_state: StateWriter,
    write_summary: Callable[[Finalized], None],
    known_missing: dict[int, str] | None = None,
    end_t_s: float | None = None,
    between: Callable[[], None] = lambda: None,
    live: LiveProducts | None = None,
) -> Finalized:
    """Finalize ``run`` as ``outcome``; raise :class:`FinalizeFailed` if run.h5 cannot be
    written (the run is then left ``finalizing``, for ``resume`` to finish). ``end_t_s`` is
    the instrument time the session stopped at, journalled for the time limit's sake.
    ``live``: the session's run.h5 and sims.h5 written as it went, used when they hold
    exactly the journal's slices (else both are made from the slice files)."""
    try:
        return _finalize(
            run, outcome, write_state, write_summary, known_missing or {}, end_t_s, between, live
        )
    except OSError as error:  # the disk filled up (or the folder went) while recording
        failure = FinalizeFailed(
            f"could not record the end of the run in {run.layout.folder}: "
            f"{error.strerror or error}; the data is safe: free space or fix the folder, then "
            f"`fibsims resume {run.layout.folder}` finishes the run"
        )
        failure.__cause__ = error
    except FinalizeFailed as error:
        failure = error
    with contextlib.suppress(OSError):  # so status tells this stop from a kill, if it can
        write_state(finalize_error=str(failure))
    raise failure


def _finalize(
    run: RunFolder,
    outcome: str,
    write_state: StateWriter,
    write_summary: Callable[[Finalized], None],
    known_missing: dict[int, str],
    end_t_s: float | None,
    between: Callable[[], None],
    live: LiveProducts | None,
) -> Finalized:
    layout = run.layout
    write_state(state=FINALIZING, outcome=outcome, finalize_error=None)
    remove_temporaries(layout, keep=live.temporaries if live is not None else ())
    sources = run.sources
    note = ""
    if _already_written(run, outcome):
        missing = {int(i): "flagged when run.h5 was written" for i in _flagged(layout.run_file)}
    else:
        try:
            missing = put_run_file(run, run_attrs(run, outcome), known_missing, between, live)
        except (RunFileError, FinalizeFailed) as error:
            missing = known_missing
            if outcome in REMOVES_SLICES:  # run.h5 is the run's data from here on: required
                raise FinalizeFailed(
                    f"{error}; the data is safe in {layout.slices}: free space or fix the "
                    f"folder, then `fibsims resume {layout.folder}` finishes the run file"
                ) from error
            note = f"run.h5 was not updated ({error}); the data is safe in {layout.slices}"
    sims_note = ""
    if not note and layout.run_file.exists():
        sims_note = put_sims_file(layout.run_file, len(sources), between, live)
    if outcome in REMOVES_SLICES:
        _remove_slices(run, missing)
    done = Finalized(
        outcome, layout.run_file, missing, run_file_note=note, sims_file_note=sims_note
    )
    write_summary(done)
    ended: dict[str, Any] = {
        "entry": "session_ended",
        "status": outcome,
        "slices_completed": len(sources),
    }
    if end_t_s is not None:
        ended["t_s"] = end_t_s
    Journal(layout.journal).append(ended)
    write_state(state=outcome, outcome=outcome, slices_missing=sorted(missing))
    return done


def put_run_file(
    run: RunFolder,
    attrs: dict[str, Any],
    known_missing: dict[int, str],
    between: Callable[[], None],
    live: LiveProducts | None,
) -> dict[int, str]:
    """Put run.h5 in place; return the committed slices it flags missing. The one ``live``
    wrote as the session went is completed when it holds exactly the journal's slices (each
    stacked from the bytes its receipt was made of, so none is missing); otherwise run.h5 is
    stacked from the slice files, each checked against its receipt first. Raises
    :class:`RunFileError` or :class:`FinalizeFailed` when it cannot be written."""
    sources = run.sources
    if live is not None and not known_missing and not live.finish(sources, attrs, between):
        return {}
    missing = known_missing | check_slice_files(run)
    _check_room(run, missing)
    return consolidate(run.layout.run_file, sources, attrs, missing, between).missing


def put_sims_file(
    run_file: Path, slices: int, between: Callable[[], None], live: LiveProducts | None
) -> str:
    """Put sims.h5 in place beside the final run.h5 (completing the one ``live`` wrote when
    it made run.h5, else from run.h5); return why it could not be, or ""."""
    if live is not None and not live.finish_sims(slices):
        return ""
    return refresh_sims_file(run_file, between)


RUN_FILE_OVERHEAD = 1.05
"""run.h5 holds the slice files' data plus tables and metadata: a few % more, measured on the
default run (1.73 GB of run.h5 from 1.71 GB of slice files)."""
RUN_FILE_SLACK_BYTES = 16 * 2**20


def _check_room(run: RunFolder, missing: dict[int, str]) -> None:
    """Refuse to start run.h5 on a disk that cannot hold it. Why not just let the write fail:
    HDF5 handles a full disk badly (the library can crash the process while it cleans up),
    whereas this refusal is a message and the run stays ``finalizing`` for resume."""
    sizes = [s.receipt.bytes for s in run.sources if s.index not in missing]
    needed = sum(sizes) * RUN_FILE_OVERHEAD + RUN_FILE_SLACK_BYTES
    free = free_bytes(run.layout.folder)
    if free < needed:
        raise FinalizeFailed(
            f"run.h5 needs about {needed / 2**30:.3g} GiB and only {free / 2**30:.3g} GiB are "
            f"free where {run.layout.folder} is; the data is safe in {run.layout.slices}: free "
            f"space, then `fibsims resume {run.layout.folder}` finishes the run file"
        )


def remove_temporaries(layout: RunLayout, keep: tuple[Path, ...] = ()) -> None:
    """Torn temporaries of writes a kill cut short (run.h5, sims.h5, state, summary, slices);
    never an abort or pause request being written by another process, nor the files in
    ``keep`` (this session's run.h5 and sims.h5 written as it went)."""
    requests = (layout.abort_request.name, layout.pause_request.name)
    for folder in (layout.folder, layout.slices):
        for path in folder.glob(f"*{TMP_SUFFIX}") if folder.is_dir() else ():
            if not path.name.startswith(requests) and path not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()


def _already_written(run: RunFolder, outcome: str) -> bool:
    """Whether run.h5 already holds this finalization's result: it matches the journal, and
    either says this outcome or can no longer be rebuilt (a kill after ``slices/`` was partly
    removed; rebuilding then would lose the slices it holds, so it is kept as it is)."""
    path = run.layout.run_file
    if not path.exists() or not run_file_matches(path, run.sources):
        return False
    if any(not source.path.exists() for source in run.sources):
        return True
    try:
        return str(read_attrs(path).get("status")) == outcome
    except (OSError, RuntimeError, ValueError):
        return False


def _flagged(path: Path) -> list[int]:
    try:
        return [int(i) for i in read_attrs(path).get("slices_missing", [])]
    except (OSError, RuntimeError, ValueError, TypeError):
        return []


def _remove_slices(run: RunFolder, missing: dict[int, str]) -> None:
    """Damaged files are kept aside (nothing is thrown away); the rest are in run.h5."""
    layout = run.layout
    for source in run.sources:
        if source.index in missing and source.path.exists():
            layout.superseded.mkdir(exist_ok=True)
            source.path.rename(layout.superseded / f"{source.path.stem}-damaged.h5")
    shutil.rmtree(layout.slices, ignore_errors=True)
