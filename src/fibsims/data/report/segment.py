"""Particles, their solid and their cracks, segmented from the SE image alone.

Why from SE: it is the sharp channel (13 nm pixels on the default recipe, against 78 nm for
SIMS), and its ion-induced contrast separates the three phases of a cathode: epoxy (pores and
cracks, dark), NMC811 (grey, grainy) and the carbon-binder domain (bright). Three-class Otsu
thresholds split them; a particle is the NMC811 with its internal cracks and pores closed and
filled, so a crack is epoxy *inside* a particle (in a hole no wider than a crack or a pore).
The truth (twin runs) is put through the same definition from its labels, so the scores
compare like with like.

Two scales: the analysis grid in 3D (particles, labelled one by one with a watershed of their
distance map, which splits particles that touch at a neck), and full resolution on a few
slices (cracks are 40 nm wide: they vanish on the grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_multiotsu
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

CLOSE_UM = 0.08
"""Gaps narrower than about twice this close inside a particle (cracks 40 nm wide do)."""
MAX_HOLE_UM = 0.2
"""A hole inside a particle's section at most twice this wide is a crack or an internal pore
(the phantom's: 40 nm and 0.24 um); a wider one is epoxy between particles that touch around
it, or a milled feature."""
SMOOTH_PX = 0.7
"""Gaussian denoising of the SE image before thresholds, in its pixels."""
SPLIT_UM = 0.2
"""A neck between two particles must be this much thinner than both to split them."""
SAMPLE = 200_000
"""SE values the thresholds are computed from (a regular subsample)."""


@dataclass(frozen=True)
class Thresholds:
    epoxy: float
    """Below: epoxy (pores, cracks) or vacuum."""
    binder: float
    """Above: carbon-binder domain."""
    vacuum: float
    """Below: vacuum (a milled feature such as the fiducial's grooves, which emits almost no
    SE), not epoxy: half the median of the epoxy class."""


@dataclass
class Phases:
    """Boolean masks of one image or volume."""

    nmc: np.ndarray
    particles: np.ndarray
    """NMC811 with its cracks and internal pores: the particles as shapes."""
    cracks: np.ndarray
    """Epoxy inside a particle."""


def find_thresholds(se: np.ndarray) -> Thresholds | None:
    """Three-class Otsu thresholds of the SE values; None if they cannot be told apart."""
    values = se[np.isfinite(se)]
    if values.size < 10:
        return None
    values = values[:: max(1, values.size // SAMPLE)]
    try:
        epoxy, binder = threshold_multiotsu(values, classes=3)
    except ValueError:  # fewer distinct values than classes
        return None
    dark = values[values < epoxy]
    vacuum = 0.5 * float(np.median(dark)) if dark.size else -np.inf
    return Thresholds(float(epoxy), float(binder), vacuum)


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return xx * xx + yy * yy <= radius * radius


def _fill_thin_holes(closed: np.ndarray, pixel_um: float) -> np.ndarray:
    """Fill the holes of a 2D mask no thicker than :data:`MAX_HOLE_UM` (cracks, internal
    pores); wider ones (epoxy pockets walled in by touching particles) stay open."""
    holes = ndi.binary_fill_holes(closed) & ~closed
    if not holes.any():
        return closed
    rows, cols = np.flatnonzero(holes.any(axis=1)), np.flatnonzero(holes.any(axis=0))
    box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # the holes only
    labels, _ = ndi.label(holes[box])
    thick = ndi.distance_transform_edt(np.pad(holes[box], 1))[1:-1, 1:-1] * pixel_um
    wide = np.unique(labels[thick > MAX_HOLE_UM])
    filled = closed.copy()
    filled[box] |= (labels > 0) & ~np.isin(labels, wide)
    return filled


def _fill(mask: np.ndarray, pixel_um: float) -> np.ndarray:
    """Close, then fill the thin holes, plane by plane (a crack is a hole of a section)."""
    radius = max(1, round(CLOSE_UM / pixel_um))
    footprint = _disk(radius)
    if mask.ndim == 3:
        footprint = footprint[None]
    pad = [(0, 0)] * (mask.ndim - 2) + [(radius, radius)] * 2
    closed = ndi.binary_closing(np.pad(mask, pad), structure=footprint)
    closed = closed[tuple(slice(r, -r) if r else slice(None) for r, _ in pad)]
    if mask.ndim == 2:
        return _fill_thin_holes(closed, pixel_um)
    return np.stack([_fill_thin_holes(plane, pixel_um) for plane in closed])


def _open(mask: np.ndarray) -> np.ndarray:
    """Remove the one-pixel rim a blurred epoxy/binder edge leaves at NMC811 grey levels."""
    cross = ndi.generate_binary_structure(2, 1)
    return ndi.binary_opening(mask, structure=cross[None] if mask.ndim == 3 else cross)


def phases_of_se(se: np.ndarray, thresholds: Thresholds, pixel_um: float) -> Phases:
    """Segment an SE image (H, W) or a volume (planes, H, W); NaN is no data."""
    sigma = (0, SMOOTH_PX, SMOOTH_PX) if se.ndim == 3 else SMOOTH_PX
    known = np.isfinite(se)
    smooth = ndi.gaussian_filter(np.where(known, se, thresholds.epoxy), sigma)
    nmc = _open((smooth > thresholds.epoxy) & (smooth < thresholds.binder) & known)
    particles = _fill(nmc, pixel_um)
    epoxy = (smooth <= thresholds.epoxy) & (smooth > thresholds.vacuum) & known
    return Phases(nmc, particles, particles & epoxy)


def phases_of_truth(nmc: np.ndarray, epoxy: np.ndarray, pixel_um: float) -> Phases:
    """The same definitions applied to the truth's NMC811 and epoxy masks."""
    particles = _fill(nmc, pixel_um)
    return Phases(nmc, particles, particles & epoxy)


@dataclass
class Particles:
    labels: np.ndarray
    """(planes, H, W) int32: 0 outside particles, 1..count a particle each."""
    count: int
    depth_um: np.ndarray
    """(planes, H, W) float32: distance to the particle's surface (0 outside)."""


def label_particles(
    particles: np.ndarray, voxel_um: tuple[float, float, float], unknown: np.ndarray | None = None
) -> Particles:
    """One label per particle: a watershed of the distance to the surface from its maxima.

    ``unknown`` voxels (a missing slice) are no surface: the distance runs through them, as it
    runs through the volume's edges, so a gap in the stack does not cut particles in two.
    Particles too thin for a maximum :data:`SPLIT_UM` high are labelled as connected pieces.
    """
    through = particles | unknown if unknown is not None else particles
    depth = ndi.distance_transform_edt(through, sampling=voxel_um).astype(np.float32)
    markers, count = ndi.label(h_maxima(depth, SPLIT_UM) & particles)
    if count == 0:
        labels, _ = ndi.label(through)
    else:
        labels = watershed(-depth, markers, mask=through)  # floods across the gaps too
    labels = np.where(particles, labels, 0).astype(np.int32)
    labels = _renumbered(labels)
    depth[~particles] = 0.0
    return Particles(labels, int(labels.max()), depth)


def _renumbered(labels: np.ndarray) -> np.ndarray:
    """Labels 1..n without gaps (a label that only held unknown voxels is gone)."""
    present = np.unique(labels)
    present = present[present > 0]
    lookup = np.zeros(int(labels.max()) + 1, dtype=np.int32)
    lookup[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return lookup[labels]
