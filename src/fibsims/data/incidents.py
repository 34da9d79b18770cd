"""A run's incidents: what went wrong on the way, counted over every session of the run.

Why they are kept in ``state.json`` as they happen: a session killed after a night of retries
and suspender holds must not take its count with it, or a resumed run would report a clean
"completed". Each session starts from the count ``state.json`` last held and adds its own.
"""

from __future__ import annotations

from typing import Any

from fibsims.engine.events import EngineFault, Event, HoldEnded, StepRetried, StepSkipped

INCIDENT_KEYS = ("steps_retried", "steps_skipped", "holds", "held_s", "engine_faults")


class Incidents:
    def __init__(self, counts: dict[str, float] | None = None) -> None:
        self.counts = dict.fromkeys(INCIDENT_KEYS, 0.0) | (counts or {})

    @classmethod
    def from_record(cls, record: Any) -> Incidents:
        """Counts from a stored record; anything missing or not a number counts as 0."""
        if not isinstance(record, dict):
            return cls()
        return cls(
            {
                key: float(value)
                for key in INCIDENT_KEYS
                if isinstance(value := record.get(key), int | float)
                and not isinstance(value, bool)
                and value >= 0
            }
        )

    def see(self, event: Event) -> bool:
        """Count ``event`` if it is an incident; say whether it was."""
        if isinstance(event, StepRetried):
            self.counts["steps_retried"] += 1
        elif isinstance(event, StepSkipped):
            self.counts["steps_skipped"] += 1
        elif isinstance(event, HoldEnded):
            self.counts["holds"] += 1
            self.counts["held_s"] += event.held_s
        elif isinstance(event, EngineFault):
            self.counts["engine_faults"] += 1
        else:
            return False
        return True

    def as_dict(self) -> dict[str, float]:
        return {
            key: round(value, 3) if key == "held_s" else int(value)
            for key, value in self.counts.items()
        }
