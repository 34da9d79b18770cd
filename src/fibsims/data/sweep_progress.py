"""The terminal bar of ``fibsims sweep``: variants finished of all, how many failed, how many
were skipped as done, and the elapsed wall time (rich, on stderr, as the run's bar)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


class SweepBar:
    def __init__(self, total: int, skipped: int, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("variants  {task.fields[failed]} failed  {task.fields[note]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(
            "sweep",
            total=total,
            completed=skipped,
            failed=0,
            note=f"({skipped} done before)" if skipped else "",
        )
        self._failed = 0
        self._progress.start()

    def advance(self, status: str, last: str) -> None:
        self._failed += status == "failed"
        self._progress.update(self._task, advance=1, failed=self._failed, note=f"last: {last}")

    def close(self) -> None:
        self._progress.stop()
