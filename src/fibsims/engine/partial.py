"""A slice while it is being acquired: what its steps produced so far.

Kept apart from the runner because it is also what a stopped slice leaves behind: whatever it
holds when the run stops is set aside whole (``superseded/``), never committed. The truth of an
acquisition split into parts (see :mod:`fibsims.engine.execute`) is combined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fibsims.engine.records import SliceRecord, StepRecord
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Image, Raster


@dataclass
class SliceInProgress:
    index: int
    face_z_um: float
    started_s: float
    steps: list[StepRecord] = field(default_factory=list)
    images: dict[str, Image] = field(default_factory=dict)
    rasters: dict[str, Raster] = field(default_factory=dict)
    truth: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def record(self, finished_s: float, instrument: Instrument) -> SliceRecord:
        return SliceRecord(
            index=self.index,
            face_z_um=self.face_z_um,
            started_s=self.started_s,
            finished_s=finished_s,
            stage=instrument.stage.position(),
            steps=tuple(self.steps),
            images=self.images,
            rasters=self.rasters,
            truth=self.truth,
        )


def combine_truth(parts: list[tuple[int, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """Truth of an acquisition from its parts: fractions are frame-weighted means (the counts
    are frame sums), labels and other integer maps those of the first part."""
    if len(parts) == 1:
        return parts[0][1]
    frames = sum(n for n, _ in parts)
    combined: dict[str, np.ndarray] = {}
    for key, first in parts[0][1].items():
        if np.issubdtype(first.dtype, np.floating):
            total = sum(n * maps[key].astype(np.float64) for n, maps in parts)
            combined[key] = (total / frames).astype(first.dtype)
        else:
            combined[key] = first
    return combined
