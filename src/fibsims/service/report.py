"""The report service: what ``fibsims report DIR`` does between flags and printing.

A folder holding a sweep (``sweep.json``, ``sweep.csv`` or ``variants/``, from ``fibsims
sweep``) gets the sweep's comparison report instead (:mod:`fibsims.data.sweep_report`).

It refuses, with a message that says what to do, a folder that is not there, a run that has
no run.h5 yet (still running, or stopped before finalizing), a run file it cannot read, and a
run with nothing to draw; then it builds ``DIR/report/`` (:mod:`fibsims.data.report`) behind a
progress bar. It takes no lock: it only reads run.h5, which a run replaces atomically, and it
writes nothing but ``DIR/report/``, so it may run beside a live run or another report.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fibsims.data.sweep_folder import MANIFEST, TABLE, VARIANTS

if TYPE_CHECKING:
    from fibsims.data.report import Progress as Ticks
    from fibsims.data.report import Report

RUN_FILE = "run.h5"
PLOTTING = "matplotlib"
SWEEP_MARKS = (MANIFEST, TABLE, VARIANTS)
"""What makes a folder a sweep's: its manifest, its table, or its variants' folders."""


class ReportInputError(Exception):
    """The folder cannot be reported on; the message says why and what to do."""


@dataclass(frozen=True)
class ReportRequest:
    folder: Path
    progress: bool = True
    best: int | None = None
    """Sweep folders: how many of the best variants' maps to show (None: the default)."""


def no_progress(stage: str, done: int, total: int) -> None:
    """No bar (``--no-progress``)."""


class _Bar:
    """Engine-free progress: one bar line per stage of the report, on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise ReportInputError(f"{folder} does not exist")
    if not folder.is_dir():
        raise ReportInputError(
            f"{folder} is not a folder (give the run or sweep folder, not a file in it)"
        )
    if importlib.util.find_spec(PLOTTING) is None:
        raise ReportInputError(
            f"the report draws its figures with {PLOTTING}, which is not installed: "
            f"`pip install {PLOTTING}` (it comes with fibsims' own dependencies)"
        )


def is_sweep(folder: Path) -> bool:
    """A sweep folder rather than a run folder (a run folder has a run.h5 or a journal)."""
    if (folder / MANIFEST).exists():
        return True
    run_marks = (folder / RUN_FILE).exists() or (folder / "journal.jsonl").exists()
    return not run_marks and any((folder / mark).exists() for mark in SWEEP_MARKS)


def _check_run(folder: Path) -> None:
    if not (folder / RUN_FILE).is_file():
        if (folder / "journal.jsonl").exists():
            raise ReportInputError(
                f"{folder} has no {RUN_FILE} yet: the run is still going or stopped before it "
                f"was finalized. `fibsims status {folder}` says which; `fibsims resume "
                f"{folder}` finishes it"
            )
        raise ReportInputError(
            f"{folder} is not a run folder: it has no {RUN_FILE} (nor a sweep folder: no "
            "sweep.json)"
        )


def _progress(request: ReportRequest, build: Callable[[Ticks], Report]) -> Report:
    bar = _Bar() if request.progress else None
    if bar is None:
        return build(no_progress)
    with bar.progress:
        return build(bar)


def _sweep_report(request: ReportRequest) -> Report:
    from fibsims.data.report import ReportError
    from fibsims.data.sweep_report import DEFAULT_BEST, build_sweep_report

    folder = request.folder
    best = DEFAULT_BEST if request.best is None else request.best
    if best < 1:
        raise ReportInputError(f"--best {best}: give 1 or more variants to show")
    try:
        return _progress(request, lambda bar: build_sweep_report(folder, best, bar))
    except ReportError as error:
        raise ReportInputError(str(error)) from None
    except OSError as error:  # a file of the sweep cannot be read, or DIR/report written
        raise ReportInputError(f"cannot make the report of the sweep {folder}: {error}") from None


def make_report(request: ReportRequest) -> Report:
    """Write ``request.folder/report/`` and say what was written."""
    folder = request.folder
    _check_folder(folder)
    if is_sweep(folder):
        return _sweep_report(request)
    _check_run(folder)
    from fibsims.data.report import ReportError, build_report  # matplotlib is there: checked
    from fibsims.data.run_reader import RunDataError

    try:
        report = _progress(request, lambda bar: build_report(folder, bar))
    except ReportError as error:
        raise ReportInputError(str(error)) from None
    except RunDataError as error:
        raise ReportInputError(f"cannot make the report of {folder}: {error}") from None
    except KeyError as error:  # a dataset the reader expects is not in the file
        raise ReportInputError(
            f"{folder / RUN_FILE} lacks {error}: it is not a fibsims run file, or one written "
            "by another version of fibsims"
        ) from None
    except OSError as error:  # unreadable run.h5, or DIR/report cannot be written
        raise ReportInputError(f"cannot make the report of {folder}: {error}") from None
    if request.best is not None:
        report.notes.append("--best is for a sweep folder; a run's report ignores it")
    return report
