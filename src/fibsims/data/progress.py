"""A terminal progress bar fed by engine events (rich), showing slices and simulated time."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fibsims.engine.events import Event, RunFinished, RunStarted, SliceCommitted


class ProgressBar:
    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("slices  instrument time {task.fields[sim_h]:.2f} h"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: int | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._progress.start()
            self._task = self._progress.add_task(
                event.recipe, total=event.slices_planned, completed=event.first_slice, sim_h=0.0
            )
        elif isinstance(event, SliceCommitted) and self._task is not None:
            self._progress.update(
                self._task, completed=event.slices_completed, sim_h=event.t_s / 3600.0
            )
        elif isinstance(event, RunFinished):
            self._progress.stop()
