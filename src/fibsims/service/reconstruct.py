"""``fibsims reconstruct`` and ``fibsims export``: what they do between flags and printing.

Reconstruct refuses, before reading any data, a folder that is not a run, a run still going
(its process alive) or one whose process died before finishing (resume or abort it first); it
accepts a run that ended (completed, or paused, aborted, failed: their committed slices are
what run.h5 holds, and the report says so). It writes ``volumes.h5`` in the run folder
atomically (a temporary sibling renamed once complete). Export refuses an unknown format
before opening anything, and a run folder without ``volumes.h5`` with the command that makes
it. Every refusal is a :class:`~fibsims.service.folder.RunFolderError` or a
:class:`~fibsims.data.volumes.VolumeError` whose message names the problem and the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fibsims.data.atomic import atomic_path
from fibsims.data.export import FORMATS, Exported, check_format, chosen_volumes, export_volume
from fibsims.data.reconstruction import Reconstruction, ReconstructOptions, reconstruct
from fibsims.data.volumes import FILE_NAME, VolumeError, VolumeFile, VolumeInfo
from fibsims.service.folder import RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout

EXPORT_FORMATS = tuple(FORMATS)
"""The export formats, by name (``tiff``, ``ome-zarr``, ``amira``)."""

__all__ = [
    "EXPORT_FORMATS",
    "ExportReport",
    "ExportRequest",
    "ReconstructReport",
    "ReconstructRequest",
    "RunFolderError",
    "VolumeError",
    "export_run",
    "reconstruct_run",
]


class StageBar:
    """A rich progress bar per stage of a long job (on stderr); silent when disabled."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self._progress = (
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console or Console(stderr=True),
            )
            if enabled
            else None
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> StageBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)

    def stage(self, name: str) -> Callable[[int, int], None]:
        return lambda done, total: self(name, done, total)


@dataclass(frozen=True)
class ReconstructRequest:
    folder: Path
    extraction_rate_hz: float | None = None
    max_ions_per_extraction: int | None = None
    max_shift_sims_px: float = 3.0
    progress: bool = True


@dataclass
class ReconstructReport:
    path: Path
    seconds: float
    bytes: int
    run_state: str
    result: Reconstruction
    volumes: list[VolumeInfo] = field(default_factory=list)


def finished_run_file(folder: Path) -> tuple[Path, str]:
    """The run file of a run that has ended, and how it ended; RunFolderError otherwise."""
    layout = RunLayout(folder)
    run = open_run_folder(layout)
    state = run.effective_state
    if run.alive:
        raise RunFolderError(
            f"the run in {folder} is still {state} (its process is alive): reconstruct it once "
            f"it has ended (`fibsims status {folder}` tells where it stands)"
        )
    if run.ended is None:
        raise RunFolderError(
            f"the run in {folder} did not finish: its process ended while the run was "
            f"{run.interrupted_while}. `fibsims resume {folder}` finishes it (or `fibsims "
            f"abort {folder}` closes it as it stands); then reconstruct"
        )
    if not layout.run_file.exists():
        raise RunFolderError(
            f"{folder} has no run.h5 although the run ended ({state}); `fibsims abort {folder}` "
            "writes it from the slice files"
        )
    return layout.run_file, state


def reconstruct_run(request: ReconstructRequest) -> ReconstructReport:
    """Write ``volumes.h5`` in the run folder from its run file."""
    run_file, state = finished_run_file(request.folder)
    options = ReconstructOptions(
        extraction_rate_hz=request.extraction_rate_hz,
        max_ions_per_extraction=request.max_ions_per_extraction,
        max_shift_sims_px=request.max_shift_sims_px,
    )
    target = request.folder / FILE_NAME
    started = time.perf_counter()
    with StageBar(request.progress) as bar, atomic_path(target) as tmp:
        try:
            result = reconstruct(run_file, tmp, options, bar)
        except ValueError as error:
            raise VolumeError(f"cannot reconstruct {request.folder}: {error}") from None
    result.path = target
    if state != "completed":
        result.notes.insert(
            0, f"the run ended {state}: the volumes hold its {result.slices} committed slices"
        )
    with VolumeFile(target) as volumes:
        infos = [volumes.info(name) for name in volumes.names]
    return ReconstructReport(
        target, time.perf_counter() - started, target.stat().st_size, state, result, infos
    )


@dataclass(frozen=True)
class ExportRequest:
    folder: Path
    format: str
    volumes: tuple[str, ...] = ()
    """Volume names, or ``("all",)``; empty: :data:`~fibsims.data.export.DEFAULT_VOLUMES`."""
    out: Path | None = None
    """The output file of a single volume, or the folder of several."""
    progress: bool = True


@dataclass(frozen=True)
class ExportReport:
    exported: list[Exported]
    seconds: list[float]


def export_run(request: ExportRequest) -> ExportReport:
    """Export volumes of the run folder's ``volumes.h5``, each checked to exist before any is
    written."""
    fmt = check_format(request.format)
    folder = request.folder
    if not folder.is_dir():
        raise RunFolderError(f"{folder} is not a folder; give a run folder")
    source = folder / FILE_NAME
    if not source.exists():
        raise VolumeError(
            f"{folder} has no {FILE_NAME}: run `fibsims reconstruct {folder}` first, then export"
        )
    with VolumeFile(source) as volumes:
        names = chosen_volumes(volumes, request.volumes)
        for name in names:
            volumes.info(name)  # VolumeError naming the volumes there are
    if request.out is not None and len(names) > 1 and request.out.is_file():
        raise VolumeError(f"{request.out} is a file; give a folder for --out with several volumes")
    exported, seconds = [], []
    with StageBar(request.progress) as bar:
        for name in names:
            out = request.out
            if out is not None and len(names) > 1:
                out = out / f"{name}{fmt.suffix}"
            started = time.perf_counter()
            exported.append(
                export_volume(source, request.format, name, out, bar.stage(f"exporting {name}"))
            )
            seconds.append(time.perf_counter() - started)
    return ExportReport(exported, seconds)
