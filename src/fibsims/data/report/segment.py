"""Particles, their solid and their cracks, segmented from the SE image alone.

Why from SE: it is the sharp channel (13 nm pixels on the default recipe, against 78 nm for
SIMS), and its ion-induced contrast separates the three phases of a cathode: epoxy (pores and
cracks, dark), NMC811 (grey, grainy) and the carbon-binder domain (bright). Three-class Otsu
thresholds classify every pixel at the SE image's own resolution.

Why there, and not on a block mean: the binder domain is finely textured, solid carbon-binder
and epoxy-filled nanopores at about 60 nm, and a mean over a SIMS-sized block of that texture
has NMC811's grey. Pixel by pixel the texture is bright and dark, with only its blurred edges
grey; an NMC811 particle is a large region of grey. So a pixel belongs to a particle when most
of its neighbourhood (:data:`TEXTURE_UM` around it, a few texture periods) is NMC811 grey; the
majority puts the boundary where the particle ends and the binder's nanopores outside it.
A particle is that region with its internal cracks and pores filled, so a crack is
epoxy *inside* a particle (in a hole no wider than a crack or a pore). The truth (twin runs) is
put through the same definition from its labels, so the scores compare like with like.

Two scales: the analysis grid in 3D (each voxel holds the share of its SE pixels classified
NMC811 grey, see :mod:`.stacks`; particles are labelled one by one with a watershed of their
distance map, which splits particles that touch at a contact), and full resolution on a few
slices (cracks are 40 nm wide: they vanish on the grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_multiotsu, threshold_otsu
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

CLOSE_UM = 0.08
"""Gaps narrower than about twice this close inside a particle (cracks 40 nm wide do)."""
MAX_HOLE_UM = 0.2
"""A hole inside a particle's section at most twice this wide is a crack or an internal pore
(the phantom's: 40 nm and 0.24 um); a wider one is epoxy between particles that touch around
it, or a milled feature."""
SMOOTH_UM = 0.009
"""Gaussian denoising of the SE image before cracks are looked for (0.7 pixel at 13 nm);
skipped on pixels so coarse that it would be less than :data:`MIN_SMOOTH_PX` of one."""
MIN_SMOOTH_PX = 0.3
TEXTURE_UM = 0.1
"""Radius of the neighbourhood whose majority makes a pixel particle or not: about three
periods of the binder's 60 nm texture across, and a few SE pixels at least."""
CRACK_UM = 0.05
"""Radius of the black top-hat that tells cracks: a dark feature narrower than about twice this
(the phantom's 40 nm cracks) stands out of the grains around it, a dark grain (wider) does
not. Also the reach of a blurred edge: dark pixels this close to a particle's surface or to
vacuum are the edge of what lies outside, not a crack."""
CRACK_DEPTH = 0.2
"""How much darker than its surroundings (the top-hat) a dark pixel must be to be a crack, as a
share of the NMC811 class's span between the two thresholds: above the grains' and the
noise's dips, below a blurred crack's."""
MAJORITY = (0.5, 0.75)
"""The range of the share of NMC811-grey pixels above which a neighbourhood is particle."""
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
    deep: float = -np.inf
    """Below: epoxy for certain (a pore's core, never a dark grain): halfway from the epoxy
    class's median to its threshold."""


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
    median = float(np.median(dark)) if dark.size else -np.inf
    return Thresholds(float(epoxy), float(binder), 0.5 * median, 0.5 * (median + float(epoxy)))


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


def _smoothed(se: np.ndarray, thresholds: Thresholds, pixel_um: float) -> np.ndarray:
    """The SE values denoised (:data:`SMOOTH_UM`), unknown (NaN) pixels set to epoxy."""
    values = np.where(np.isfinite(se), se, thresholds.epoxy).astype(np.float32, copy=False)
    sigma = SMOOTH_UM / pixel_um
    if sigma < MIN_SMOOTH_PX:
        return values
    return ndi.gaussian_filter(values, (0, sigma, sigma) if se.ndim == 3 else sigma)


def classify(se: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Which pixels of an SE image (H, W), or of planes of them, are NMC811 grey (NaN: none).

    Not denoised: what is counted is the share of such pixels in a neighbourhood, where the
    noise averages out, and a blur of the binder's texture would only add grey pixels to it.
    """
    return (se > thresholds.epoxy) & (se < thresholds.binder)


def _cracks(
    values: np.ndarray, particles: np.ndarray, thresholds: Thresholds, pixel_um: float
) -> np.ndarray:
    """Thin dark lines and pores inside particles: dark pixels (epoxy) that are darker than
    their surroundings (a black top-hat of :data:`CRACK_UM`) or surely epoxy, at least the
    top-hat's reach in from the particle's surface and from vacuum (the fiducial's grooves)."""
    footprint = _disk(max(1, round(CRACK_UM / pixel_um)))
    planes = values if values.ndim == 3 else values[None]
    masks = particles if particles.ndim == 3 else particles[None]
    depth = CRACK_DEPTH * (thresholds.binder - thresholds.epoxy)
    cracks = []
    for plane, mask in zip(planes, masks, strict=True):
        near_vacuum = ndi.binary_dilation(plane <= thresholds.vacuum, structure=footprint)
        inside = ndi.binary_erosion(mask, structure=footprint) & ~near_vacuum
        dark = (plane <= thresholds.epoxy) & inside
        thin = ndi.black_tophat(plane, footprint=footprint) > depth
        cracks.append(dark & (thin | (plane < thresholds.deep)))
    return np.stack(cracks) if values.ndim == 3 else cracks[0]


def window_px(pixel_um: float) -> int:
    """The side of the majority window, in pixels: odd, at least 3."""
    return 2 * max(1, round(TEXTURE_UM / pixel_um)) + 1


def _majority(share: np.ndarray, pixel_um: float) -> np.ndarray:
    """Where most of the :data:`TEXTURE_UM` neighbourhood (in its plane) is NMC811 grey.

    "Most" is Otsu's threshold of the neighbourhood shares, kept within :data:`MAJORITY`: the
    binder's texture has a few grey pixels too (the blurred edges of its pores), so the level
    halfway between its share and NMC811's sits above one half, where the boundary is unbiased.
    """
    size = window_px(pixel_um)
    sizes = (1, size, size) if share.ndim == 3 else size
    local = ndi.uniform_filter(share.astype(np.float32), sizes, mode="nearest")
    sample = local.ravel()[:: max(1, local.size // SAMPLE)]
    level = threshold_otsu(sample) if sample.min() < sample.max() else MAJORITY[0]
    return local > np.clip(level, *MAJORITY)


def phases_of_se(se: np.ndarray, thresholds: Thresholds, pixel_um: float) -> Phases:
    """Segment an SE image (H, W) or planes of them at their own resolution; NaN is no data."""
    grey = classify(se, thresholds)
    region = _open(_majority(grey, pixel_um))  # the majority bridges cracks: no closing
    if region.ndim == 2:
        particles = _fill_thin_holes(region, pixel_um)
    else:
        particles = np.stack([_fill_thin_holes(plane, pixel_um) for plane in region])
    values = _smoothed(se, thresholds, pixel_um)
    return Phases(particles & grey, particles, _cracks(values, particles, thresholds, pixel_um))


def phases_of_shares(share: np.ndarray, pixel_um: float) -> Phases:
    """Segment the analysis grid from the share of each voxel's SE pixels that are NMC811 grey
    (:func:`classify`; NaN where no slice had data). Cracks are thinner than a voxel:
    none are looked for here."""
    known = np.isfinite(share)
    share = np.where(known, share, 0.0)
    particles = _fill(_open(_majority(share, pixel_um) & known), pixel_um)
    return Phases(particles & (share > 0.5), particles, np.zeros_like(particles))


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
