"""Ground truth of every acquisition, collected from the event stream (simulated instruments).

Why a subscriber: the twin knows, right after each scan, what the face really was and where
the scan really landed; an ``Acquired`` event is the moment to ask. An acquisition split into
parts has one answer per part: fractions and geometry are frame-weighted means (the counts are
frame sums), labels and other integer maps those of the first part.

Two kinds of truth: the maps (``--truth``: labels, Li fraction... on the product's own grid,
large) and the geometry (always, when the instrument has truth: 7 numbers per product, see
:data:`GEOMETRY_FIELDS`), which scores the closed loops (drift, slice thickness, focus).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from fibsims.engine.events import Acquired, Event
from fibsims.instrument.interfaces import GroundTruth
from fibsims.instrument.types import AcquisitionGeometry, Image

GEOMETRY_FIELDS = (
    "drift_x_um",
    "drift_y_um",
    "drift_z_um",
    "field_center_x_um",
    "field_center_y_um",
    "face_z_um",
    "defocus_um",
)


def geometry_row(geometry: AcquisitionGeometry) -> np.ndarray:
    return np.array(
        [*geometry.drift_um, *geometry.field_center_um, geometry.face_z_um, geometry.defocus_um],
        dtype=np.float64,
    )


Part = tuple[int, dict[str, np.ndarray]]


class TruthCollector:
    def __init__(self, truth: GroundTruth, maps: bool) -> None:
        self.truth = truth
        self.maps = maps
        self._parts: dict[tuple[int, str], list[Part]] = defaultdict(list)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, Acquired) or event.product is None:
            return
        found = {"geometry": geometry_row(self.truth.last_geometry())}
        if self.maps:
            image = isinstance(event.data, Image)
            found |= self.truth.last_image_truth() if image else self.truth.last_raster_truth()
        self._parts[(event.slice, event.product)].append((int(event.data.frames), found))

    def take(self, index: int) -> dict[str, dict[str, np.ndarray]]:
        """Slice ``index``'s truth per product, forgotten once taken."""
        keys = [key for key in self._parts if key[0] == index]
        return {product: combine(self._parts.pop((i, product))) for i, product in keys}

    def forget(self, index: int) -> None:
        for key in [key for key in self._parts if key[0] <= index]:
            del self._parts[key]


def combine(parts: list[Part]) -> dict[str, np.ndarray]:
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
