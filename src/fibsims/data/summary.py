"""The run summary (``summary.json``): what happened, how long it took, where the data is.

The collector listens to engine events; the service adds wall time, file paths and the run's
incidents (:mod:`fibsims.data.incidents`, counted over every session) at the end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fibsims.engine.events import Event, RunFinished, RunStarted, SliceCommitted, StepFinished


@dataclass
class SummaryCollector:
    recipe: str = ""
    status: str = "idle"
    reason: str = ""
    slices_planned: int = 0
    slices_completed: int = 0
    simulated_seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    step_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.recipe = event.recipe
            self.slices_planned = event.slices_planned
            self.status = "running"
        elif isinstance(event, StepFinished):
            self.step_seconds[event.kind] += event.duration_s
            self.step_counts[event.kind] += 1
        elif isinstance(event, SliceCommitted):
            self.slices_completed = event.slices_completed
        elif isinstance(event, RunFinished):
            self.status = event.status
            self.reason = event.reason
            self.slices_planned = event.slices_planned
            self.slices_completed = event.slices_completed
        self.simulated_seconds = event.t_s

    def as_dict(self, **extra: Any) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "status": self.status,
            "reason": self.reason,
            "slices_planned": self.slices_planned,
            "slices_completed": self.slices_completed,
            "simulated_seconds": round(self.simulated_seconds, 3),
            "simulated_hours": round(self.simulated_seconds / 3600.0, 3),
            "step_seconds": {k: round(v, 3) for k, v in sorted(self.step_seconds.items())},
            "step_counts": dict(sorted(self.step_counts.items())),
            **extra,
        }
