"""Reading an existing run folder: what run it holds, what is done, how its sessions ended.

``status``, ``resume`` and ``abort`` all start here, so they agree on what a folder means.
Every file is validated on the way in: a truncated or foreign ``run.json``, a damaged journal,
a record of the wrong shape is a :class:`RunFolderError` naming the file (and line) and what to
do, never a traceback. Reading changes nothing; repairs happen under the run's lock.

How a run stands is read from the journal first: a session's ``session_ended`` record is
appended only once its run.h5 is verified, so "completed" is a fact of the journal, and
``state.json`` (rewritten at every change, for ``status``) only adds what the run is doing now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from fibsims.data.run_file import SliceSource
from fibsims.data.slice_file import slice_file_name
from fibsims.data.state_file import FINALIZING, read_state
from fibsims.engine.journal import Journal, JournalCorrupt, JournalScan
from fibsims.engine.store import Receipt
from fibsims.recipe.bounds import MAX_SEED
from fibsims.service.layout import RunLayout
from fibsims.service.process import ProcessId

LIVE_STATES = {"idle", "preflight", "running", "paused", FINALIZING}
ENDED_STATES = ("completed", "paused", "aborted", "failed")


class RunFolderError(Exception):
    """The folder cannot be used as asked (not a run, already a run, damaged, in use...)."""


class Manifest(BaseModel):
    """``run.json``: what the run is. Unknown keys are kept for newer versions' sake."""

    model_config = ConfigDict(extra="allow", frozen=True)

    recipe: str
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)]
    instrument: str = Field(min_length=1)
    truth: bool = False
    recipe_sha256: str | None = None
    recipe_model: dict[str, Any] | None = None
    overrides: list[str] = Field(default_factory=list)
    """The ``--set path=value`` the run started with, applied to recipe.yaml on resume."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)


class SessionStarted(_Entry):
    entry: Literal["session_started"]
    first_slice: Annotated[int, Field(ge=0)]
    start_time_s: Annotated[float, Field(ge=0)]
    max_hours: Annotated[float, Field(gt=0)] | None = None


class SliceCommit(_Entry):
    entry: Literal["slice_committed"]
    slice: Annotated[int, Field(ge=0)]
    t_s: Annotated[float, Field(ge=0)]
    file_crc32: Annotated[str, Field(pattern=r"^[0-9a-f]{8}$")]
    file_bytes: Annotated[int, Field(ge=0)]


class SessionEnded(_Entry):
    entry: Literal["session_ended"]
    status: Literal["completed", "paused", "aborted", "failed"]
    t_s: Annotated[float, Field(ge=0)] | None = None
    """Instrument time when the session stopped (absent when no instrument was open)."""


Entry = Annotated[SessionStarted | SliceCommit | SessionEnded, Field(discriminator="entry")]
_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)


@dataclass
class RunFolder:
    layout: RunLayout
    manifest: Manifest
    state: dict[str, Any]
    scan: JournalScan
    commits: list[SliceCommit] = field(default_factory=list)
    sessions: list[SessionStarted] = field(default_factory=list)
    ended: str | None = None
    """How the last session ended (its ``session_ended`` record), None if it did not."""
    uncounted_s: float = 0.0
    """Instrument time sessions spent after their last commit (holds, slices stopped part
    way): a resumed clock restarts at the last commit, but this time was spent."""

    @property
    def committed(self) -> list[int]:
        return [c.slice for c in self.commits]

    @property
    def sources(self) -> list[SliceSource]:
        """The committed slices with their files and receipts, for run.h5."""
        return [
            SliceSource(
                c.slice,
                self.layout.slices / slice_file_name(c.slice),
                Receipt(c.file_crc32, c.file_bytes),
            )
            for c in self.commits
        ]

    @property
    def last_commit_t_s(self) -> float:
        """Instrument time at which the run's committed data ends: the last commit, or before
        any, the first session's start (0 for a run of its own; for a site of a multi-site
        run, when the site before it ended)."""
        if self.commits:
            return self.commits[-1].t_s
        return self.sessions[0].start_time_s if self.sessions else 0.0

    @property
    def last_context(self) -> dict[str, Any] | None:
        """The run context journalled with the last commit (its arrays are in its file)."""
        if not self.commits:
            return None
        context = (self.commits[-1].model_extra or {}).get("context")
        return context if isinstance(context, dict) else None

    @property
    def max_hours(self) -> float | None:
        """The latest ``resume --max-hours`` override, if any session gave one."""
        given = [s.max_hours for s in self.sessions if s.max_hours is not None]
        return given[-1] if given else None

    @property
    def slices_planned(self) -> int:
        volume = (self.manifest.recipe_model or {}).get("volume", {})
        planned = volume.get("slices") if isinstance(volume, dict) else None
        if isinstance(planned, int) and not isinstance(planned, bool):
            return planned
        recorded = self.state.get("slices_planned")
        return recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else 0

    @property
    def owner(self) -> ProcessId | None:
        return ProcessId.from_record(self.state)

    @property
    def alive(self) -> bool:
        """A process is working on this run now (running, waiting on a suspender, or
        finalizing). A run whose process ended, however, is not alive."""
        if self.ended is not None or self.state.get("state") not in LIVE_STATES:
            return False
        owner = self.owner
        return owner is not None and owner.alive()

    @property
    def effective_state(self) -> str:
        """completed / paused / aborted / failed (a session ended so), ``finalizing`` or
        running states (a live process), or ``interrupted`` (its process died mid-way)."""
        if self.ended is not None:
            return self.ended
        if self.alive:
            return str(self.state.get("state"))
        return "interrupted"

    @property
    def interrupted_while(self) -> str:
        """What the run was doing when its process died (for messages)."""
        recorded = str(self.state.get("state") or "starting")
        if recorded == FINALIZING:
            return f"finalizing (as {self.state.get('outcome', 'unknown')})"
        return recorded


def read_manifest(layout: RunLayout) -> Manifest:
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
        return Manifest.model_validate(data)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        problem = _first_problem(error) if isinstance(error, ValidationError) else str(error)
        raise RunFolderError(
            f"{layout.manifest} is damaged ({problem}); it says which run the folder holds, "
            "so the run cannot be resumed or aborted without it: restore it from a backup"
        ) from None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the record"
    return f"{where}: {first['msg']}"


def read_journal(layout: RunLayout, run: RunFolder) -> None:
    """Fill ``run`` from the journal, validating every record and the commit order."""
    journal = Journal(layout.journal)
    try:
        run.scan = journal.scan()
    except JournalCorrupt as error:
        raise RunFolderError(str(error)) from None
    except OSError as error:
        raise RunFolderError(f"{layout.journal} cannot be read: {error}") from None
    for line, raw in enumerate(run.scan.entries, start=1):
        try:
            entry = _ENTRY.validate_python(raw)
        except ValidationError as error:
            raise RunFolderError(
                f"{layout.journal} line {line}: a record of the wrong shape "
                f"({_first_problem(error)}); the journal was written by another program or "
                "edited: restore it from a backup"
            ) from None
        if isinstance(entry, SliceCommit):
            if entry.slice != len(run.commits):
                raise RunFolderError(
                    f"{layout.journal} line {line} commits slice {entry.slice} where slice "
                    f"{len(run.commits)} comes next: the journal was edited or two processes "
                    "shared the folder; it cannot be resumed safely"
                )
            run.commits.append(entry)
        elif isinstance(entry, SessionStarted):
            run.sessions.append(entry)
            run.ended = None
        else:
            run.ended = entry.status
            if entry.t_s is not None:
                run.uncounted_s += max(0.0, entry.t_s - run.last_commit_t_s)


def open_run_folder(layout: RunLayout) -> RunFolder:
    """Read and validate the run in ``layout.folder`` (changing nothing)."""
    if not layout.folder.is_dir():
        raise RunFolderError(f"{layout.folder} is not a folder; give a run folder")
    if not layout.manifest.exists() or not layout.recipe_copy.exists():
        raise RunFolderError(
            f"{layout.folder} is not a fibsims run folder (no run.json / recipe.yaml); "
            "give the folder a `fibsims run --out` wrote"
        )
    run = RunFolder(
        layout=layout,
        manifest=read_manifest(layout),
        state=read_state(layout.state) or {},
        scan=JournalScan([], 0, b""),
    )
    read_journal(layout, run)
    return run
