"""Resampling a stack measured on uneven faces onto evenly spaced planes along z.

Why: a slice-and-view run measures where each face stood (``RunData.face_z_um``, from the
fiducial when the run follows one), and those faces are not evenly spaced (the default run's
pitch is 25 nm +- 5 nm). Fiji, napari and Avizo know one voxel size per axis, so what they open
must be resampled onto an even grid; ``volumes.h5`` keeps both, the measured planes with their
z coordinates and the even ones.

The even grid spans the first to the last measured face with as many planes as slices (its
pitch is the mean measured pitch). Each even plane is the linear interpolation, along z only,
between the two measured faces that bracket it (sorted by z), ``(1 - t) lower + t upper``;
a plane that coincides with a measured face (t = 0 or 1) is that face. Nothing is filled
across a missing slice: an even plane that would borrow from a missing one is NaN. Linear,
because it is exact for a constant and a ramp and keeps the value range (no overshoot at a
particle's edge), and along z only, because x and y are already on their grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT = 1e-9
"""Interpolation weights closer than this to 0 or 1 take one face alone."""


@dataclass(frozen=True)
class PlaneSource:
    """Where an even plane comes from: ``(1 - weight) lower + weight upper`` (measured slice
    indices), or None when it would borrow from a missing slice."""

    lower: int | None
    upper: int | None
    weight: float

    @property
    def missing(self) -> bool:
        return self.lower is None


@dataclass(frozen=True)
class EvenZ:
    """An evenly spaced z grid and, per plane, its measured sources."""

    z0_um: float
    dz_um: float
    sources: tuple[PlaneSource, ...]

    @property
    def count(self) -> int:
        return len(self.sources)

    @property
    def z_um(self) -> np.ndarray:
        return self.z0_um + np.arange(self.count) * self.dz_um

    def needs(self, index: int) -> set[int]:
        """The measured slices plane ``index`` reads."""
        source = self.sources[index]
        if source.lower is None:
            return set()
        if source.upper is None or source.weight <= EXACT:
            return {source.lower}
        return {source.lower, source.upper}


def even_z(z_um: np.ndarray, missing: np.ndarray, fallback_dz_um: float) -> EvenZ:
    """The even grid over measured faces ``z_um`` (NaN: unknown) of which ``missing`` hold no
    data; ``fallback_dz_um`` (the recipe's slice thickness) when fewer than two faces are
    known."""
    z = np.asarray(z_um, dtype=np.float64)
    missing = np.asarray(missing, dtype=bool)
    known = np.flatnonzero(np.isfinite(z))
    if known.size == 0:
        raise ValueError("no slice has a known face position")
    order = known[np.argsort(z[known], kind="stable")]
    zs = z[order]
    count = len(z)
    if known.size < 2 or zs[-1] == zs[0]:
        dz = float(fallback_dz_um)
        z0 = float(zs[0])
    else:
        dz = float(zs[-1] - zs[0]) / (count - 1)
        z0 = float(zs[0])
    sources = []
    for k in range(count):
        target = z0 + k * dz
        sources.append(_source(target, zs, order, missing))
    return EvenZ(z0, dz, tuple(sources))


def _source(target: float, zs: np.ndarray, order: np.ndarray, missing: np.ndarray) -> PlaneSource:
    span = float(zs[-1] - zs[0])
    tolerance = EXACT * max(span, 1.0)
    upper = int(np.searchsorted(zs, target - tolerance, side="left"))
    if upper >= len(zs):  # past the last face (rounding)
        upper = len(zs) - 1
    if abs(zs[upper] - target) <= tolerance:
        index = int(order[upper])
        return PlaneSource(None, None, 0.0) if missing[index] else PlaneSource(index, None, 0.0)
    lower = max(upper - 1, 0)
    weight = float((target - zs[lower]) / (zs[upper] - zs[lower]))
    lo, hi = int(order[lower]), int(order[upper])
    if weight <= EXACT:
        return PlaneSource(None, None, 0.0) if missing[lo] else PlaneSource(lo, None, 0.0)
    if weight >= 1 - EXACT:
        return PlaneSource(None, None, 0.0) if missing[hi] else PlaneSource(hi, None, 0.0)
    if missing[lo] or missing[hi]:
        return PlaneSource(None, None, weight)
    return PlaneSource(lo, hi, weight)


def interpolate(source: PlaneSource, planes: dict[int, np.ndarray], shape: tuple) -> np.ndarray:
    """The even plane from its measured ``planes`` (by slice index), float32."""
    if source.lower is None:
        return np.full(shape, np.nan, dtype=np.float32)
    lower = planes[source.lower].astype(np.float32)
    if source.upper is None or source.weight <= EXACT:
        return lower
    upper = planes[source.upper].astype(np.float32)
    w = np.float32(source.weight)
    return (np.float32(1) - w) * lower + w * upper
