"""The run summary (``summary.json``): what happened, how long it took, where the data is.

The collector listens to engine events; the service adds wall time and file paths at the end.
It counts the incidents (steps retried or skipped, suspender holds and their time, faults
nobody foresaw) so that "completed" never hides a night of trouble.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fibsims.engine.events import (
    EngineFault,
    Event,
    HoldEnded,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StepFinished,
    StepRetried,
    StepSkipped,
)

INCIDENTS = ("steps_retried", "steps_skipped", "holds", "held_s", "engine_faults")


def add_incidents(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """Incidents of two sessions of one run, summed."""
    return {k: round(float(a.get(k, 0)) + float(b.get(k, 0)), 3) for k in INCIDENTS}


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
    incidents: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INCIDENTS, 0))

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepRetried):
            self.incidents["steps_retried"] += 1
        elif isinstance(event, StepSkipped):
            self.incidents["steps_skipped"] += 1
        elif isinstance(event, HoldEnded):
            self.incidents["holds"] += 1
            self.incidents["held_s"] += event.held_s
        elif isinstance(event, EngineFault):
            self.incidents["engine_faults"] += 1
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
            "incidents": dict(self.incidents),
            **extra,
        }
