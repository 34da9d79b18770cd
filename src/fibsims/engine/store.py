"""The slice store contract: the engine's only view of where data goes.

The engine knows nothing of HDF5. It hands each finished slice to a :class:`SliceStore`, which
must return only once the slice is durable; then, and only then, the engine journals the slice
as committed ("data first, then the journal").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fibsims.engine.records import SliceRecord


class StoreError(Exception):
    """The store could not make a slice durable (disk full, file unwritable)."""


@dataclass(frozen=True)
class Receipt:
    """What the store made durable: journalled with the commit, so damage done to the slice's
    data afterwards is caught when the data is next read (on resume, when finalizing)."""

    crc32: str
    bytes: int


class SliceStore(Protocol):
    def write_slice(self, record: SliceRecord) -> Receipt:
        """Make ``record`` durable, or raise :class:`StoreError` leaving earlier slices intact."""
        ...

    def set_aside(self, record: SliceRecord) -> None:
        """Keep the data of a slice that stopped part way; it is redone on resume, but what
        was acquired is never thrown away."""
        ...
