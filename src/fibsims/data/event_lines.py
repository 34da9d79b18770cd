"""``fibsims run --json-events``: every engine event as one JSON line, for scripts.

Why its own sink: a script following a run wants the stream the engine emits, one complete
object per line, flushed as it happens, and nothing else on that stream (no bar, no prose).
The keys are stable: ``event`` (the name), ``t_s`` (instrument time) and ``slice`` (None for
events of the whole run) come first in every line, then the event's own fields as in
``log.jsonl`` (an acquisition's arrays are described by type and shape, never written).
Non-finite numbers are written as null (strict JSON). A reader that goes away (``| head``)
stops the lines, never the run: the run's data matter more than its commentary.
"""

from __future__ import annotations

import json
import math
from typing import Any, TextIO

import numpy as np

from fibsims.engine.events import Event


def event_line(event: Event) -> str:
    """The event as one line of JSON (no newline)."""
    fields = event.as_dict()
    head: dict[str, Any] = {
        "event": fields.pop("event"),
        "t_s": round(float(fields.pop("t_s")), 6),
        "slice": fields.pop("slice", None),
    }
    return json.dumps(_finite({**head, **fields}), default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    return value


class JsonEventLines:
    """An event sink writing :func:`event_line` of every event to ``stream``, flushed."""

    def __init__(self, stream: TextIO) -> None:
        self.stream: TextIO | None = stream

    def __call__(self, event: Event) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(event_line(event) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # the reader went away (or closed the stream)
            self.stream = None
