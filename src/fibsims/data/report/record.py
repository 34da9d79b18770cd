"""What the run folder says about the run, beside its data: summary, incidents, recipe.

Why from ``summary.json`` and ``log.jsonl`` and not from run.h5 alone: the summary holds the
instrument time by step kind, the incidents counted over every session and the loops scored
against truth; the log holds each incident with its time and reason. Both are optional (a run
killed while finalizing may lack a summary): the page says what is missing instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUMMARY = "summary.json"
LOG = "log.jsonl"
INCIDENT_EVENTS = {
    "step_retried": "retried",
    "step_skipped": "skipped",
    "hold_started": "held",
    "hold_ended": "hold ended",
    "engine_fault": "engine fault",
}
MAX_INCIDENTS = 200
"""The page lists at most this many incidents (the count says how many there were)."""


@dataclass(frozen=True)
class Incident:
    t_s: float
    what: str
    slice: int | None
    kind: str
    detail: str


@dataclass
class RunRecord:
    summary: dict[str, Any] | None
    incidents: list[Incident] = field(default_factory=list)
    incidents_total: int = 0
    stops: list[Incident] = field(default_factory=list)
    """State changes that carry a reason (paused, failed, aborted)."""
    notes: list[str] = field(default_factory=list)


def _read_summary(folder: Path, notes: list[str]) -> dict[str, Any] | None:
    path = folder / SUMMARY
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        notes.append(f"{SUMMARY} is missing: no time budget by step kind, incidents or quality.")
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        notes.append(f"{SUMMARY} cannot be read ({error}); its sections are left out.")
        return None
    if not isinstance(summary, dict):
        notes.append(f"{SUMMARY} is not a JSON object; its sections are left out.")
        return None
    return summary


def _incident(record: dict[str, Any], what: str) -> Incident:
    detail = record.get("error") or record.get("reason") or record.get("suspender") or ""
    if record.get("event") == "step_retried":
        detail = (
            f"attempt {record.get('attempt')}, waited {record.get('wait_s', 0):.0f} s: {detail}"
        )
    elif record.get("event") == "hold_ended":
        detail = f"held {record.get('held_s', 0):.0f} s by {record.get('suspender', '?')}"
    index = record.get("slice")
    return Incident(
        t_s=float(record.get("t_s", 0.0) or 0.0),
        what=what,
        slice=index if isinstance(index, int) else None,
        kind=str(record.get("kind", "")),
        detail=str(detail).splitlines()[0] if detail else "",
    )


def read_record(folder: Path) -> RunRecord:
    notes: list[str] = []
    record = RunRecord(_read_summary(folder, notes), notes=notes)
    try:
        lines = (folder / LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        notes.append(f"{LOG} is missing: incidents are counted, not listed.")
        return record
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a kill: the rest of the log still counts
        if not isinstance(event, dict):
            continue
        name = event.get("event")
        if name in INCIDENT_EVENTS:
            record.incidents_total += 1
            if len(record.incidents) < MAX_INCIDENTS:
                record.incidents.append(_incident(event, INCIDENT_EVENTS[name]))
        elif name == "state_changed" and event.get("reason"):
            record.stops.append(_incident(event, str(event.get("state", ""))))
    return record
