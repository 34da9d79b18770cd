"""The slice store contract: the engine's only view of where data goes.

The store is a subscriber to the engine's event stream: it assembles the slice in progress from
what the stream says (steps finished, products kept). The engine knows nothing of HDF5; when a
slice is done it asks the store to :meth:`~SliceStore.commit` it, which must return only once
the slice is durable; then, and only then, the engine journals the slice as committed ("data
first, then the journal").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fibsims.engine.context import RunContext
from fibsims.engine.events import Event
from fibsims.instrument.types import StagePosition


class StoreError(Exception):
    """The store could not make a slice durable (disk full, file unwritable)."""


@dataclass(frozen=True)
class Receipt:
    """What the store made durable: journalled with the commit, so damage done to the slice's
    data afterwards is caught when the data is next read (on resume, when finalizing)."""

    crc32: str
    bytes: int


@dataclass(frozen=True)
class SliceSeal:
    """What the engine adds when it closes a slice: the rest comes from the event stream."""

    index: int
    face_z_um: float
    """Where the face stood: measured when the run follows a fiducial, else nominal."""
    nominal_front_um: float
    started_s: float
    finished_s: float
    stage: StagePosition
    context: RunContext
    """The run context as this slice leaves it (committed with it)."""


class SliceStore(Protocol):
    def __call__(self, event: Event) -> None:
        """Take in one event of the stream (steps, products) for the slice in progress."""
        ...

    def commit(self, seal: SliceSeal) -> Receipt:
        """Make the slice durable, or raise :class:`StoreError` leaving earlier slices intact."""
        ...

    def set_aside(self, seal: SliceSeal) -> None:
        """Keep the data of a slice that stopped part way; it is redone on resume, but what
        was acquired is never thrown away."""
        ...
