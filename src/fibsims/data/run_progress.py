"""Where a run stands, folded from its events: slices, the running step, instrument time so far
and expected, and a wall-clock ETA.

Why one model for every display: the terminal bar (:mod:`fibsims.data.progress`), ``state.json``
(which ``fibsims status`` reads) and the live publisher (``fibsims watch``) must agree on what
"slice 12/400, 3.1 h of ~23.8 h, ends in 2 h 05 min" means. It folds the events' JSON form
(``Event.as_dict``), so a watcher folds what arrives over the wire exactly as the run folds
what it emits.

The ETA: the engine's estimate gives the instrument time the run should end at
(``run_started.expected_end_s``); the pace of this session (wall seconds per instrument second,
measured between the session's start and its last committed slice) turns what is left into
wall time. On hardware the pace is about 1; on the twin it is tiny (23 h run in minutes). When
the estimate is spent (retries, holds) the slices' own pace stands in for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class RunProgress:
    """Where a run stands. Unknown keys of :meth:`from_dict` are ignored (newer senders)."""

    recipe: str = ""
    instrument: str = ""
    state: str = "idle"
    slices_planned: int = 0
    slices_completed: int = 0
    t_s: float = 0.0
    last_step: str = ""
    status: str = ""
    reason: str = ""
    current_step: dict[str, Any] | None = None
    """The running step: ``{"slice", "position", "kind", "name"}``; None between steps."""
    expected_end_s: float | None = None
    """Instrument time the run should end at (the engine's estimate), None if unknown."""
    expected_is_floor: bool = False
    first_slice: int = 0
    started_t_s: float = 0.0
    """Instrument time at which this session started its slices."""
    started_wall_s: float | None = None
    committed_t_s: float | None = None
    """Instrument time of this session's last committed slice."""
    committed_wall_s: float | None = None

    @property
    def finished(self) -> bool:
        return bool(self.status)

    def apply(self, event: dict[str, Any], wall_s: float | None = None) -> None:
        """Fold one event (``Event.as_dict`` form); ``wall_s`` is when it was seen (epoch
        seconds, default now)."""
        now = time.time() if wall_s is None else wall_s
        name = event.get("event")
        self.t_s = float(event.get("t_s", self.t_s))
        if name == "run_started":
            self.recipe = str(event.get("recipe", ""))
            self.instrument = str(event.get("instrument", ""))
            self.slices_planned = int(event.get("slices_planned", 0))
            self.first_slice = self.slices_completed = int(event.get("first_slice", 0))
            expected = event.get("expected_end_s")
            self.expected_end_s = float(expected) if expected is not None else None
            self.expected_is_floor = bool(event.get("expected_is_floor", False))
            self.started_t_s, self.started_wall_s = self.t_s, now
            self.committed_t_s = self.committed_wall_s = None
        elif name == "state_changed":
            self.state = str(event.get("state", self.state)) or self.state
            if event.get("reason"):
                self.reason = str(event["reason"])
        elif name == "step_started":
            self.last_step = f"slice {event.get('slice')} {event.get('kind')}"
            self.current_step = {
                "slice": event.get("slice"),
                "position": event.get("position"),
                "kind": event.get("kind"),
                "name": event.get("step_name") or "",
            }
        elif name in {"step_finished", "step_skipped"}:
            self.current_step = None
        elif name == "slice_committed":
            self.slices_completed = int(event.get("slices_completed", self.slices_completed))
            self.slices_planned = int(event.get("slices_planned", self.slices_planned))
            self.committed_t_s, self.committed_wall_s = self.t_s, now
        elif name == "run_finished":
            self.status = str(event.get("status", "finished"))
            self.state = self.status
            self.slices_completed = int(event.get("slices_completed", self.slices_completed))
            self.reason = str(event.get("reason", "")) or self.reason
            self.current_step = None

    # -- derived ----------------------------------------------------------------------------
    def remaining_instrument_s(self, at_t_s: float | None = None) -> float | None:
        """Instrument time still to go from ``at_t_s`` (default: now), None if unknown."""
        if self.expected_end_s is None:
            return None
        at = self.t_s if at_t_s is None else at_t_s
        left_slices = max(0, self.slices_planned - self.slices_completed)
        if left_slices == 0:
            return 0.0
        left = self.expected_end_s - at
        if left > 0:
            return left
        done = self.slices_completed - self.first_slice  # the estimate is spent: go by pace
        if done > 0 and self.committed_t_s is not None:
            return (self.committed_t_s - self.started_t_s) / done * left_slices
        return None

    def finish_wall_s(self) -> float | None:
        """When the run should end, wall clock (epoch seconds), from this session's pace
        up to its last commit; None before the session's first commit."""
        if self.committed_t_s is None or self.committed_wall_s is None:
            return None
        if self.started_wall_s is None:
            return None
        spent_s = self.committed_t_s - self.started_t_s
        if spent_s <= 0:
            return None
        remaining = self.remaining_instrument_s(self.committed_t_s)
        if remaining is None:
            return None
        pace = (self.committed_wall_s - self.started_wall_s) / spent_s
        return self.committed_wall_s + remaining * pace

    def snapshot(self) -> dict[str, Any]:
        """The figures ``state.json`` records for ``fibsims status`` (stable keys)."""
        finish = self.finish_wall_s()
        return {
            "current_step": self.current_step,
            "instrument_time_s": round(self.t_s, 3),
            "instrument_time_expected_s": self.expected_end_s,
            "expected_is_floor": self.expected_is_floor,
            "eta_utc": utc_text(finish) if finish is not None else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunProgress:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def utc_text(epoch_s: float) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="seconds")


def step_text(step: dict[str, Any] | None) -> str:
    """``slice 3 se_image "overview"`` (the name only when the recipe gave one)."""
    if not step:
        return ""
    name = step.get("name")
    return f"slice {step.get('slice')} {step.get('kind')}" + (f' "{name}"' if name else "")


def duration_text(seconds: float) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 05 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def instrument_time_text(so_far_s: float, expected_s: float | None, floor: bool) -> str:
    """``3 h 05 min of ~23 h 48 min`` (``of >=...`` when the estimate is a floor)."""
    if expected_s is None:
        return duration_text(so_far_s)
    return f"{duration_text(so_far_s)} of {'>=' if floor else '~'}{duration_text(expected_s)}"
