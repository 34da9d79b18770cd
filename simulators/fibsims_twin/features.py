"""Features milled into the block (fiducials), and their cross-sections in every face.

Why: a closed-loop slice-and-view corrects drift and measures slice thickness from marks milled
into the sample ahead of the face, whose cross-sections the face then reveals slice after
slice (an angled line's section moves across the image as the face advances). The twin records
each such pattern where the beam really put it and carves the faces it images accordingly.

Model (a simulator abstraction): a feature (:func:`fibsims_twin.milling.is_feature`) is a prism.
In the x-z plane it is the pattern's footprint, ``width_um`` across by ``height_um`` along z,
rotated by ``rotation_deg`` about its centre; a positive rotation turns the footprint's +z axis
toward +x (counter-clockwise in a top view drawn with x to the right and the slicing axis z
down the page). In y it spans ``center_y_um`` +- ``depth_um`` / 2. A real groove is milled
from the top surface down to its depth; the prism stands for its cross-section as the face sees
it, wherever the recipe puts the field. The centre is placed by the beam
(:mod:`fibsims_twin.frames`): pattern centre + stage + beam shift - drift at the middle of the
mill, and front - height / 2 - d_z on z.

A face at z cuts the prism in the interval of x where both |u| <= w / 2 and |v| <= h / 2, with
u = dx cos t - dz sin t and v = dx sin t + dz cos t (dx, dz from the centre, t the rotation):
for a long thin line (h >> w) the section is w / cos t wide and centred at
x = x_c + (z - z_c) tan t, so it moves across the image by tan t per unit of face advance.
Pixels whose centres fall inside are vacuum (:class:`~fibsims_twin.materials.Material`), the way
the phantom samples its objects. Every feature costs a few array operations per face, however
many there are; only those the face crosses write pixels.

numpy is imported by the functions that cut faces: the twin's state holds the features, and the
cost model (``fibsims estimate``) builds a state without importing numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING

from fibsims.instrument import MillPattern
from fibsims_twin.materials import Material

if TYPE_CHECKING:
    import numpy as np

PARALLEL_EPS = 1e-12  # numerical: |cos| or |sin| below this is an edge parallel to the face


@dataclass(frozen=True)
class MilledFeature:
    """A prism milled into the block, in sample coordinates (um, deg): centre (x, y, z), the
    footprint ``width_um`` (across) by ``height_um`` (along z) rotated by ``rotation_deg``,
    spanning ``depth_um`` in y."""

    x_um: float
    y_um: float
    z_um: float
    width_um: float
    height_um: float
    depth_um: float
    rotation_deg: float

    @classmethod
    def placed(
        cls, pattern: MillPattern, origin_um: tuple[float, float], drift_z_um: float
    ) -> MilledFeature:
        """Where ``pattern`` lands in the sample: its centre moved by the beam frame's origin
        ``origin_um`` (x, y) and its z by the drift ``drift_z_um``."""
        return cls(
            x_um=float(origin_um[0] + pattern.center_x_um),
            y_um=float(origin_um[1] + pattern.center_y_um),
            z_um=float(pattern.front_z_um - pattern.height_um / 2 - drift_z_um),
            width_um=float(pattern.width_um),
            height_um=float(pattern.height_um),
            depth_um=float(pattern.depth_um),
            rotation_deg=float(pattern.rotation_deg),
        )

    def section_x_um(self, z_um: float) -> tuple[float, float] | None:
        """The x interval the face at ``z_um`` cuts from the prism, or None (one feature)."""
        import numpy as np

        lo, hi = _sections(np.array([astuple(self)]), z_um)
        return (float(lo[0]), float(hi[0])) if lo[0] <= hi[0] else None


FEATURE_FIELDS = tuple(f.name for f in fields(MilledFeature))


def footprint_z_extent_um(pattern: MillPattern) -> tuple[float, float]:
    """(back, front) on the slicing axis of a pattern's rotated footprint, beam frame. For an
    unrotated pattern: (front - height, front)."""
    centre = pattern.front_z_um - pattern.height_um / 2
    theta = math.radians(pattern.rotation_deg)
    half = pattern.height_um / 2 * abs(math.cos(theta)) + pattern.width_um / 2 * abs(
        math.sin(theta)
    )
    return centre - half, centre + half


def _slab(coef: np.ndarray, const: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dx interval where |coef dx + const| <= half (all of it, or none, when coef ~ 0)."""
    import numpy as np

    steep = np.abs(coef) > PARALLEL_EPS
    safe = np.where(steep, coef, 1.0)
    a = (-half - const) / safe
    b = (half - const) / safe
    inside = np.abs(const) <= half
    lo = np.where(steep, np.minimum(a, b), np.where(inside, -np.inf, np.inf))
    hi = np.where(steep, np.maximum(a, b), np.where(inside, np.inf, -np.inf))
    return lo, hi


def _sections(table: np.ndarray, z_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample-frame x intervals (lo, hi) the plane z cuts from each feature (rows of
    ``table``, columns as :class:`MilledFeature`); empty where lo > hi."""
    import numpy as np

    x, _, zc, width, height, _, rotation = table.T
    theta = np.radians(rotation)
    cos, sin = np.cos(theta), np.sin(theta)
    dz = z_um - zc
    lo_u, hi_u = _slab(cos, -dz * sin, width / 2)
    lo_v, hi_v = _slab(sin, dz * cos, height / 2)
    return x + np.maximum(lo_u, lo_v), x + np.minimum(hi_u, hi_v)


class MilledFeatures:
    """The features milled so far (in milling order), kept as one array for the face cuts."""

    def __init__(self, features: Iterable[MilledFeature] = ()) -> None:
        self._items: list[MilledFeature] = list(features)
        self._table: np.ndarray | None = None

    def add(self, feature: MilledFeature) -> None:
        self._items.append(feature)
        self._table = None

    def __iter__(self) -> Iterator[MilledFeature]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> MilledFeature:
        return self._items[index]

    def carve(self, labels: np.ndarray, z_um: float, x_um: np.ndarray, y_um: np.ndarray) -> bool:
        """Set to vacuum the pixels of ``labels`` (H, W) on the ascending sample axes x (W,)
        and y (H,) of the face at ``z_um`` that lie in a feature; True if any did."""
        if not self._items:
            return False
        import numpy as np

        if self._table is None:
            self._table = np.array([astuple(f) for f in self._items], dtype=np.float64)
        lo, hi = _sections(self._table, z_um)
        y_c, depth = self._table[:, 1], self._table[:, 5]
        columns = np.searchsorted(x_um, lo, "left"), np.searchsorted(x_um, hi, "right")
        rows = (
            np.searchsorted(y_um, y_c - depth / 2, "left"),
            np.searchsorted(y_um, y_c + depth / 2, "right"),
        )
        hit = (lo <= hi) & (columns[1] > columns[0]) & (rows[1] > rows[0])
        for k in np.flatnonzero(hit):
            labels[rows[0][k] : rows[1][k], columns[0][k] : columns[1][k]] = Material.VACUUM
        return bool(hit.any())
