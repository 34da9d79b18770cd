"""The analysis grid: the SE field binned to about the SIMS pixel, slices binned to match.

Why a grid of its own: the default run's SE stack is 400 x 1024 x 1536 pixels (1.3 GB), while
its particles are microns across and its 7Li+ map has 78 nm pixels. Binning the SE image k x k
and the slices z at a time gives near-cubic voxels of about the SIMS pixel, small enough to
segment in 3D in seconds, fine enough to keep every particle, and on the same z planes as the
binned 7Li+ volume, so the two can be compared voxel by voxel. Thin features (the 40 nm cracks)
are looked for at full resolution on a few slices instead (:mod:`.segment`).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

FINEST_GRID_NM = 100.0
"""The grid is never coarser than the SE pixel, nor finer than this unless the SIMS pixel is."""
MIN_PLANES = 24
"""Slices are binned only while at least this many planes remain (a few-slice run keeps all)."""


@dataclass(frozen=True)
class Binning:
    xy: int
    """SE pixels per grid pixel, along x and y."""
    z: int
    """Slices per grid plane."""


def choose_binning(
    se_pixel_nm: float, li_pixel_nm: float | None, pitch_nm: float, slices: int
) -> Binning:
    """Bin the SE image to about the SIMS pixel (at most :data:`FINEST_GRID_NM`), and the
    slices to about the same length, so voxels are near cubic."""
    target_nm = max(se_pixel_nm, min(li_pixel_nm or FINEST_GRID_NM, FINEST_GRID_NM))
    xy = max(1, round(target_nm / se_pixel_nm))
    z = max(1, round(xy * se_pixel_nm / pitch_nm)) if pitch_nm > 0 else 1
    return Binning(xy=xy, z=max(1, min(z, slices // MIN_PLANES)))


def block_mean(image: np.ndarray, k: int) -> np.ndarray:
    """Mean of k x k blocks (float32), the image cropped to whole blocks."""
    h, w = (image.shape[0] // k) * k, (image.shape[1] // k) * k
    blocks = image[:h, :w].astype(np.float32).reshape(h // k, k, w // k, k)
    return blocks.mean(axis=(1, 3))


def bin_axis(axis: np.ndarray, k: int) -> np.ndarray:
    """Pixel centres of an axis binned k at a time (the same crop as :func:`block_mean`)."""
    n = (axis.size // k) * k
    return axis[:n].reshape(-1, k).mean(axis=1)


def z_groups(slices: int, k: int) -> list[range]:
    """The slices of each grid plane: k consecutive slices, the last plane takes the rest."""
    planes = max(1, slices // k)
    edges = [i * k for i in range(planes)] + [slices]
    return [range(a, b) for a, b in itertools.pairwise(edges)]


def plane_z(face_z_um: np.ndarray, groups: list[range]) -> np.ndarray:
    """The z of each plane: the mean face position of its slices (NaN ones ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a plane of missing slices only
        return np.array([np.nanmean(face_z_um[list(g)]) for g in groups])


def nearest_indices(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each coordinate of ``target``, the index of the nearest pixel centre of the uniform
    ascending axis ``source``, and whether it falls inside that axis' pixels at all."""
    pitch = (source[-1] - source[0]) / max(1, source.size - 1) if source.size > 1 else 1.0
    index = np.rint((target - source[0]) / pitch).astype(np.int64)
    inside = (index >= 0) & (index < source.size)
    return np.clip(index, 0, source.size - 1), inside


def pixel_um(axis: np.ndarray) -> float:
    """The pitch of a uniform axis."""
    return float(axis[1] - axis[0]) if axis.size > 1 else 1.0
