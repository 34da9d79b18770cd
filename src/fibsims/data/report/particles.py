"""Lithium per particle, and with depth into the particles: the heterogeneity a cathode shows.

Why per particle: in a cycled NMC811 cathode each secondary particle sits at its own state of
charge, so the mean Li of a particle, from particle to particle, is the first thing a battery
scientist asks of a Li map; the profile from the surface inwards shows core-shell gradients and
the loss along cracks. The 7Li+ pixels are assigned to the SE particles through the stored
geometry (nearest grid voxel of each SIMS pixel centre, on the same z planes); only pixels of
solid NMC811 one voxel in from any edge in its plane count, so epoxy and binder at the rims do
not dilute the means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from fibsims.data.report.grid import nearest_indices
from fibsims.data.report.segment import Particles
from fibsims.data.report.stacks import Volume

MIN_PARTICLE_UM3 = 0.5
"""Smaller pieces (a particle's tip at the edge of the volume) are left out of the table."""
DEPTH_STEP_UM = 0.25


@dataclass(frozen=True)
class Particle:
    label: int
    volume_um3: float
    centroid_um: tuple[float, float, float]
    """(x, y, z) in the face frame."""
    li_counts: float
    """Mean 7Li+ counts per SIMS pixel over the particle's solid."""
    li_true: float | None
    """Mean true Li atomic fraction over the same pixels (twin runs)."""
    pixels: int
    cut: bool
    """The particle reaches the edge of the volume: part of it lies outside."""


@dataclass(frozen=True)
class DepthProfile:
    depth_um: np.ndarray
    li_counts: np.ndarray
    li_true: np.ndarray | None


@dataclass(frozen=True)
class LiOnParticles:
    """The particle labels, solid and depth sampled on the 7Li+ pixels, plane by plane."""

    labels: np.ndarray
    depth_um: np.ndarray
    li: np.ndarray
    truth: np.ndarray | None


def sample_on_li(
    particles: Particles, nmc: np.ndarray, se: Volume, li: Volume, truth_li: Volume | None
) -> LiOnParticles:
    """Each 7Li+ pixel with the particle (0: none, or not solid) and depth found under it."""
    in_plane = ndi.generate_binary_structure(2, 1)[None]  # a stack may be one plane thick
    core = nmc & ndi.binary_erosion(nmc, structure=in_plane)
    rows, rows_in = nearest_indices(se.y_um, li.y_um)
    cols, cols_in = nearest_indices(se.x_um, li.x_um)
    inside = rows_in[:, None] & cols_in[None, :]
    planes = min(particles.labels.shape[0], li.data.shape[0])
    grid = np.ix_(np.arange(planes), rows, cols)
    labels = np.where(core[grid] & inside, particles.labels[grid], 0)
    labels = np.where(np.isfinite(li.data[:planes]), labels, 0)
    truth = truth_li.data[:planes] if truth_li is not None else None
    return LiOnParticles(labels, particles.depth_um[grid], li.data[:planes], truth)


def _means(labels: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    pick = labels > 0
    sums = np.bincount(labels[pick], weights=values[pick].astype(np.float64), minlength=count + 1)
    n = np.bincount(labels[pick], minlength=count + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / n


def particle_table(particles: Particles, sampled: LiOnParticles, se: Volume) -> list[Particle]:
    """Every particle of at least :data:`MIN_PARTICLE_UM3` with 7Li+ pixels on it."""
    count = particles.count
    if count == 0:
        return []
    dz = float(np.nanmedian(np.diff(se.z_um))) if se.z_um.size > 1 else 0.0
    dz = dz if np.isfinite(dz) and dz > 0 else abs(float(se.x_um[1] - se.x_um[0]))
    voxel = abs(float(se.x_um[1] - se.x_um[0]) * float(se.y_um[1] - se.y_um[0])) * dz
    ids = np.arange(1, count + 1)
    volumes = ndi.sum_labels(np.ones_like(particles.labels), particles.labels, ids) * voxel
    centres = ndi.center_of_mass(np.ones_like(particles.labels), particles.labels, ids)
    edges = _edge_labels(particles.labels)
    li = _means(sampled.labels, sampled.li, count)
    true = _means(sampled.labels, sampled.truth, count) if sampled.truth is not None else None
    pixels = np.bincount(sampled.labels.ravel(), minlength=count + 1)
    table = []
    for k, (volume, centre) in enumerate(zip(volumes, centres, strict=True), start=1):
        if volume < MIN_PARTICLE_UM3 or pixels[k] == 0:
            continue
        z, y, x = centre
        table.append(
            Particle(
                label=k,
                volume_um3=float(volume),
                centroid_um=(_at(se.x_um, x), _at(se.y_um, y), _at(se.z_um, z)),
                li_counts=float(li[k]),
                li_true=float(true[k]) if true is not None else None,
                pixels=int(pixels[k]),
                cut=k in edges,
            )
        )
    return table


def _at(axis: np.ndarray, index: float) -> float:
    finite = np.isfinite(axis)
    return float(np.interp(index, np.flatnonzero(finite), axis[finite]))


def _edge_labels(labels: np.ndarray) -> set[int]:
    faces = [labels[0], labels[-1], labels[:, 0], labels[:, -1], labels[:, :, 0], labels[:, :, -1]]
    return {int(v) for face in faces for v in np.unique(face) if v}


def depth_profile(sampled: LiOnParticles) -> DepthProfile | None:
    """Mean 7Li+ (and true Li) against the distance from the particle surface."""
    pick = (sampled.labels > 0) & np.isfinite(sampled.li)
    if not pick.any():
        return None
    depth = sampled.depth_um[pick]
    bins = np.floor(depth / DEPTH_STEP_UM).astype(np.int64)
    n = np.bincount(bins)
    keep = n >= max(20, n.sum() // 1000)  # bins with too few pixels say nothing
    centres = (np.arange(n.size) + 0.5) * DEPTH_STEP_UM

    def mean(values: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(bins, weights=values.astype(np.float64), minlength=n.size) / n

    truth = mean(sampled.truth[pick])[keep] if sampled.truth is not None else None
    return DepthProfile(centres[keep], mean(sampled.li[pick])[keep], truth)
