"""What one slice produced: step timings, instrument read-backs and the data products.

A :class:`SliceRecord` is handed to the slice store as a whole; the engine commits the slice
in its journal only after the store has made the record durable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fibsims.instrument.types import Image, Raster, StagePosition


@dataclass(frozen=True)
class StepRecord:
    """One executed step: instrument-clock start and end, the current used, read-backs."""

    position: int
    kind: str
    started_s: float
    finished_s: float
    current_na: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.finished_s - self.started_s


@dataclass(frozen=True)
class SliceRecord:
    """A complete slice, ready to be stored."""

    index: int
    face_z_um: float
    started_s: float
    finished_s: float
    stage: StagePosition
    steps: tuple[StepRecord, ...]
    images: dict[str, Image] = field(default_factory=dict)
    rasters: dict[str, Raster] = field(default_factory=dict)
    truth: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """Ground truth per product (simulated instruments, when asked for): maps on the product's
    own pixel grid, e.g. ``truth["sims_raster"]["li_fraction"]``."""

    @property
    def duration_s(self) -> float:
        return self.finished_s - self.started_s
