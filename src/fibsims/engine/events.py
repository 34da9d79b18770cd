"""Typed engine events. Sinks (log, progress bar, summary, live publishers) listen to these.

Every event carries ``t_s``, the instrument-clock time at which it happened. ``as_dict`` gives
a JSON-ready form with an ``event`` name, which is what the log and the wire carry.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    t_s: float

    @classmethod
    def name(cls) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.name(), **dataclasses.asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    recipe: str
    slices_planned: int
    first_slice: int
    instrument: str
    seed: int
    expected_end_s: float | None = None
    """Instrument time at which the run should end, from the engine's estimate of the slices
    still to run (:mod:`fibsims.engine.estimate`); None when none was made. Progress displays
    show it next to the time so far, and derive a wall-clock ETA from it."""
    expected_is_floor: bool = False
    """The backend declared no cost model, so ``expected_end_s`` is a lower bound."""


@dataclass(frozen=True)
class StateChanged(Event):
    previous: str
    state: str
    reason: str = ""


@dataclass(frozen=True)
class StepStarted(Event):
    slice: int
    position: int
    kind: str
    step_name: str = ""
    """The step's name in the recipe, when it has one (empty otherwise), so a progress display
    can tell two steps of one kind apart."""


@dataclass(frozen=True)
class StepFinished(Event):
    slice: int
    position: int
    kind: str
    started_s: float
    duration_s: float
    metadata: dict[str, Any] = field(default_factory=dict)
    current_na: float = 0.0


@dataclass(frozen=True)
class Acquired(Event):
    """An acquisition finished (``product`` names the product it feeds, if any): every scan
    is on the stream, so a subscriber (ground truth, live views) sees each as it happens."""

    slice: int
    position: int
    kind: str
    product: str | None
    data: Any  # Image or Raster

    def as_dict(self) -> dict[str, Any]:
        return _without_data(self)


@dataclass(frozen=True)
class ProductKept(Event):
    """A data product of the slice, complete (parts summed): what the slice store keeps."""

    slice: int
    position: int
    kind: str
    product: str
    data: Any  # Image or Raster

    def as_dict(self) -> dict[str, Any]:
        return _without_data(self)


def _without_data(event: Acquired | ProductKept) -> dict[str, Any]:
    """Logs and the wire carry the product's description, never its arrays."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name != "data"}
    pixels = getattr(event.data, "pixels", getattr(event.data, "count_maps", None))
    shape = list(pixels.shape) if pixels is not None else None
    return {"event": event.name(), **fields, "data": type(event.data).__name__, "shape": shape}


@dataclass(frozen=True)
class StepRetried(Event):
    slice: int
    position: int
    kind: str
    attempt: int
    wait_s: float
    error: str


@dataclass(frozen=True)
class StepSkipped(Event):
    slice: int
    position: int
    kind: str
    reason: str


@dataclass(frozen=True)
class HoldStarted(Event):
    """A suspender holds the run in place (beam blanked) until its condition clears."""

    suspender: str
    reason: str


@dataclass(frozen=True)
class HoldEnded(Event):
    """A hold ended: the condition cleared (``cleared``) or the run paused for a person."""

    suspender: str
    held_s: float
    cleared: bool


@dataclass(frozen=True)
class EngineFault(Event):
    """Something no policy foresaw ended the run; the traceback is for the log, not the user."""

    error: str
    traceback: str


@dataclass(frozen=True)
class SliceCommitted(Event):
    slice: int
    face_z_um: float
    duration_s: float
    slices_completed: int
    slices_planned: int


@dataclass(frozen=True)
class RunFinished(Event):
    status: str
    slices_completed: int
    slices_planned: int
    reason: str = ""
    beam_blanked: bool | None = True
    """None when the beam's state could not be read (the instrument link was lost)."""


EventSink = Callable[[Event], None]
