"""``state.json``: the run's state as of its last change, for ``fibsims status`` and ``resume``.

Written atomically on every state change and slice commit. It records the process (pid and
start time), so a reader can tell a live run from one whose process died (SIGKILL, power cut)
while ``running``. The journal stays the source of truth for which slices are done and how each
session ended; this file says what the run is doing and why it stopped.

When the engine stops, the state becomes ``finalizing`` (with the ``outcome`` the run will
have) until run.h5 is written and verified; only then does the service record the outcome.
It also carries the run's incidents as they happen (:mod:`fibsims.data.incidents`), and
what ``fibsims status`` shows of a live run: the running step, the instrument time expected
at the end (the engine's estimate) and a wall-clock ETA (:mod:`fibsims.data.run_progress`).
Every step's start is written, so that ``status`` names the step a live run is in, but without
the fsyncs: those writes are most of the file's (four of five a slice in the default recipe),
and with their two fsyncs they took ~6 ms each on the shared 2-core machine's disk. A power
cut can only lose the latest step start (the file stays the last one renamed into place);
every state change, slice commit, incident, the end of the run and finalizing's writes stay
durable, as ``docs/reliability.md`` says.

Reading is defensive: a field of the wrong type (a foreign or damaged file) is dropped, never
trusted, so ``status`` and ``resume`` cannot trip over it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_json_atomic
from fibsims.data.incidents import Incidents
from fibsims.data.run_progress import RunProgress
from fibsims.engine.events import (
    Event,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepStarted,
)

FINALIZING = "finalizing"
ENDED = frozenset({"completed", "aborted", "failed"})
"""Engine states that end a run (``paused`` may be a suspender's wait in place, not an end)."""


class StateFile:
    def __init__(
        self,
        path: Path,
        slices_planned: int,
        slices_completed: int,
        owner: dict[str, Any],
        incidents: Incidents | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``owner`` identifies this process (pid, pid_started, host); ``incidents`` are the
        run's so far (earlier sessions), which this session adds to; ``wall`` is the wall
        clock (epoch seconds) the ETA is reckoned on."""
        self.path = path
        self.incidents = incidents or Incidents()
        self.progress = RunProgress(slices_planned=slices_planned)
        self._wall = wall
        self.state: dict[str, Any] = {
            "state": "idle",
            "reason": "",
            "slices_planned": slices_planned,
            "slices_completed": slices_completed,
            **owner,
            "beam_blanked": None,
            "last_event": None,
            "instrument_time_s": 0.0,
            "incidents": self.incidents.as_dict(),
        }

    def __call__(self, event: Event) -> None:
        durable = True
        self.state["last_event"] = event.name()
        self.progress.apply(event.as_dict(), self._wall())
        self.state.update(self.progress.snapshot())
        if self.incidents.see(event):
            self.state["incidents"] = self.incidents.as_dict()
        elif isinstance(event, StateChanged):
            ended = event.state in ENDED
            # an ending is only recorded once finalizing is done; until then it is the outcome
            self.state["state"] = FINALIZING if ended else event.state
            if ended:
                self.state["outcome"] = event.state
            self.state["reason"] = event.reason
        elif isinstance(event, SliceCommitted):
            self.state["slices_completed"] = event.slices_completed
        elif isinstance(event, StepStarted):
            durable = False  # status shows the running step; see the module docstring
        elif isinstance(event, RunFinished):
            self.state.update(
                state=FINALIZING,
                outcome=event.status,
                reason=event.reason,
                slices_completed=event.slices_completed,
                beam_blanked=event.beam_blanked,
            )
        elif not isinstance(event, RunStarted):
            return
        self._save(durable)

    def write(self, **changes: Any) -> None:
        """Record ``changes`` durably (finalizing's states, the outcome)."""
        self.state.update(changes)
        self._save(durable=True)

    def _save(self, durable: bool) -> None:
        self.state["updated_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        write_json_atomic(self.path, self.state, durable=durable)


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when there is none or it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


_NUMBER = (int, float)
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "state": (str,),
    "outcome": (str,),
    "reason": (str,),
    "slices_planned": (int,),
    "slices_completed": (int,),
    "instrument_time_s": _NUMBER,
    "beam_blanked": (bool, type(None)),
    "last_event": (str, type(None)),
    "updated_utc": (str,),
    "pid": (int,),
    "pid_started": _NUMBER,
    "host": (str,),
    "current_step": (dict,),
    "instrument_time_expected_s": _NUMBER,
    "expected_is_floor": (bool,),
    "eta_utc": (str,),
    "slices_missing": (list,),
    "incidents": (dict,),
    "finalize_error": (str,),
}


def _well_typed(key: str, value: Any) -> bool:
    kinds = FIELD_TYPES[key]
    if isinstance(value, bool) and bool not in kinds:
        return False
    if not isinstance(value, kinds):
        return False
    if key == "current_step":
        return (
            isinstance(value.get("slice"), int)
            and isinstance(value.get("kind"), str)
            and isinstance(value.get("name", ""), str)
        )
    if key == "slices_missing":
        return all(isinstance(i, int) and not isinstance(i, bool) for i in value)
    return True


def read_state(path: Path) -> dict[str, Any] | None:
    """The state record with only its known, well-typed fields; None when there is none."""
    raw = read_json_object(path)
    if raw is None:
        return None
    return {k: v for k, v in raw.items() if k in FIELD_TYPES and _well_typed(k, v)}
