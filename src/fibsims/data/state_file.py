"""``state.json``: the run's state as of its last change, for ``fibsims status`` and ``resume``.

Written atomically on every state change and slice commit. It records the process (pid and
start time), so a reader can tell a live run from one whose process died (SIGKILL, power cut)
while ``running``. The journal stays the source of truth for which slices are done and how each
session ended; this file says what the run is doing and why it stopped.

When the engine stops, the state becomes ``finalizing`` (with the ``outcome`` the run will
have) until run.h5 is written and verified; only then does the service record the outcome.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_json_atomic
from fibsims.engine.events import (
    Event,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepStarted,
)

FINALIZING = "finalizing"


class StateFile:
    def __init__(
        self, path: Path, slices_planned: int, slices_completed: int, owner: dict[str, Any]
    ) -> None:
        """``owner`` identifies this process (pid, pid_started, host)."""
        self.path = path
        self.state: dict[str, Any] = {
            "state": "idle",
            "reason": "",
            "slices_planned": slices_planned,
            "slices_completed": slices_completed,
            **owner,
            "beam_blanked": None,
            "last_event": None,
            "instrument_time_s": 0.0,
        }

    def __call__(self, event: Event) -> None:
        self.state["last_event"] = event.name()
        self.state["instrument_time_s"] = round(event.t_s, 3)
        if isinstance(event, StateChanged):
            self.state["state"] = event.state
            self.state["reason"] = event.reason
        elif isinstance(event, SliceCommitted):
            self.state["slices_completed"] = event.slices_completed
        elif isinstance(event, StepStarted):
            self.state["current_step"] = {"slice": event.slice, "kind": event.kind}
            return  # not worth an fsync per step; the next commit or change carries it
        elif isinstance(event, RunFinished):
            self.state.update(
                state=FINALIZING,
                outcome=event.status,
                reason=event.reason,
                slices_completed=event.slices_completed,
                beam_blanked=event.beam_blanked,
            )
            self.state.pop("current_step", None)
        elif not isinstance(event, RunStarted):
            return
        self.write()

    def write(self, **changes: Any) -> None:
        self.state.update(changes)
        self.state["updated_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        write_json_atomic(self.path, self.state)


def read_state(path: Path) -> dict[str, Any] | None:
    """The state record, or None when there is none or it is not a readable JSON object."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return state if isinstance(state, dict) else None
