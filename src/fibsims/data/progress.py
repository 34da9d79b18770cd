"""The terminal progress bar of ``fibsims run`` / ``resume``, fed by engine events (rich).

It shows what an operator watching a 23-hour run asks: how many slices, which step is running
(kind and recipe name), instrument time so far against the engine's estimate of the whole run,
and when it should end on the wall clock. The figures come from
:class:`~fibsims.data.run_progress.RunProgress`, the same model ``fibsims status`` reads back
from ``state.json``, so the two never disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fibsims.data.run_progress import (
    RunProgress,
    duration_text,
    instrument_time_text,
    step_text,
)
from fibsims.engine.events import Event, RunFinished, RunStarted


class ProgressBar:
    """An event sink drawing one bar on stderr: ``recipe ━━━ 12/400 slices  slice 12 mill
    instrument 3 h 05 min of ~23 h 48 min  ETA 2 h 10 min``."""

    def __init__(
        self, console: Console | None = None, wall: Callable[[], float] = time.time
    ) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("slices  {task.fields[step]}  instrument {task.fields[instrument]}"),
            TextColumn("{task.fields[eta]}"),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: int | None = None
        self._wall = wall
        self.model = RunProgress()

    def __call__(self, event: Event) -> None:
        self.model.apply(event.as_dict(), self._wall())
        if isinstance(event, RunStarted):
            self._progress.start()
            self._task = self._progress.add_task(
                event.recipe, total=event.slices_planned, **self.fields()
            )
        if self._task is not None:
            self._progress.update(
                self._task, completed=self.model.slices_completed, **self.fields()
            )
        if isinstance(event, RunFinished):
            self._progress.stop()

    def fields(self) -> dict[str, str]:
        """The bar's text fields as of the last event."""
        model = self.model
        finish = model.finish_wall_s()
        if model.finished:
            eta = ""
        elif finish is None:
            eta = "ETA after the first slice"
        else:
            eta = f"ETA {duration_text(finish - self._wall())}"
        return {
            "step": step_text(model.current_step) or model.state,
            "instrument": instrument_time_text(
                model.t_s, model.expected_end_s, model.expected_is_floor
            ),
            "eta": eta,
        }
