"""Grains and cracks on a face: grain boundaries, open cracks and grain contrast per pixel.

Why two paths: images and rasters have pixels finer than the grains (13-80 nm against ~300 nm),
so the grain field is computed on a lattice-aligned node grid and interpolated (fast, see
:mod:`fibsims_twin.grains`); faces sampled coarser than the nodes (statistics over hundreds of
um) are evaluated point by point, and only where a particle is. The choice depends only on the
pixel pitch, so any window of a face gives the same pixels as the whole face.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fibsims_twin.cracks import CrackModel
from fibsims_twin.grains import (
    GrainGrid,
    GrainLattice,
    GrainSample,
    grains_at_points,
    grains_on_grid,
)
from fibsims_twin.hashing import uniform
from fibsims_twin.nodes import NodeLookup, boundary_gradient
from fibsims_twin.parameters import MicrostructureParameters
from fibsims_twin.particles import CX, CZ, UID
from fibsims_twin.radial import merge_radially
from fibsims_twin.sections import Sections

CONTRAST_STREAM = "phantom.grain_orientation"
LI_STREAM = "phantom.grain_li"
SQRT3 = math.sqrt(3.0)
GRID_PATH_MAX_PITCH = 1.5  # lattice spacings: coarser pixels are evaluated point by point
NODE_OVERSAMPLING = 1.5  # node pitch at least this many pixel pitches


def particle_uids(table: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """The stable id of each owner's particle (0 where none owns)."""
    if table.shape[0] == 0:
        return np.zeros(owner.shape)
    return np.where(owner >= 0, table[:, UID].take(np.maximum(owner, 0)), 0.0)


def grain_contrast(
    seed: int, keys: np.ndarray, uids: np.ndarray, stream: str = CONTRAST_STREAM
) -> np.ndarray:
    """A zero-mean, unit-variance value per (grain, particle): its channelling orientation
    (``CONTRAST_STREAM``) or its Li offset (``LI_STREAM``), independent of each other.
    (Particle ids are 53 random bits, so key ^ id identifies the pair: two pairs collide only
    if their ids differ by exactly the exclusive or of their grain keys.)"""
    u = uniform(seed, stream, keys ^ uids.astype(np.int64))
    return (SQRT3 * (2.0 * u - 1.0)).astype(np.float32)


@dataclass
class FaceMicrostructure:
    """Per pixel (H, W): ``boundary_um`` distance to the nearest grain boundary (float32, signed
    on the grid path, inf outside particles on the point path) and ``is_open`` (bool) whether
    that boundary is an open crack. ``contrast(scale, offset)`` gives offset + scale x the grain
    orientation value (zero mean, unit variance), ``li_loss()`` the drop of the Li content
    beside open cracks and ``grain_li()`` each grain's own Li value (zero mean, unit variance,
    independent of its orientation), all computed on demand."""

    boundary_um: np.ndarray
    is_open: np.ndarray
    contrast: Callable[[float, float], np.ndarray] = field(repr=False)
    li_loss: Callable[[], np.ndarray] = field(repr=False)
    grain_li: Callable[[], np.ndarray] = field(repr=False)


def select(second: np.ndarray, first: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``np.where(second, other, first)`` for float32 arrays, without a branch per element:
    ``first`` (overwritten, returned) takes the bits of ``other`` through a mask.

    Why: np.where branches on every element and mispredicts at every grain boundary of an
    image (~1.6x slower on the default SE image); bits are moved, not computed, so the result
    is np.where's bit for bit.
    """
    mask = second.view(np.uint8).astype(np.uint32)
    np.negative(mask, out=mask)  # 0 or all ones
    bits = first.view(np.uint32)
    flips = np.bitwise_xor(bits, other.view(np.uint32))
    flips &= mask
    bits ^= flips
    return first


def _primaries(
    sample: GrainSample, table: np.ndarray, owner: np.ndarray, micro: MicrostructureParameters
) -> GrainSample:
    """The grains as the morphology has them: Voronoi cells (equiaxed) or merged into radial
    columns of the particle each point lies in (:mod:`fibsims_twin.radial`)."""
    if micro.primary_morphology == "equiaxed" or table.shape[0] == 0:
        return sample
    inside = owner >= 0
    centres = np.moveaxis(table[np.maximum(owner, 0), CX : CZ + 1], -1, 0)
    return merge_radially(sample, centres, inside, micro)


def on_grid(
    lattice: GrainLattice,
    cracks: CrackModel,
    table: np.ndarray,
    solid: Sections,
    axes: tuple[np.ndarray, np.ndarray],
    z_um: float,
    subdivisions: int,
    micro: MicrostructureParameters,
) -> FaceMicrostructure:
    """The node-grid path: grains and crack flags at nodes, interpolated to the pixels."""
    x, y = axes
    grid: GrainGrid = grains_on_grid(lattice, (x[0], x[-1]), (y[0], y[-1]), z_um, subdivisions)
    owner, _ = solid.owner(grid.x_um, grid.y_um)
    sample = _primaries(grid.sample, table, owner, micro)
    is_open = cracks.open_boundaries(sample, table, owner)
    lookup = NodeLookup.between(grid, x, y)
    boundary = lookup.linear(sample.signed_um, boundary_gradient(sample))
    open_pixels = lookup.nearest(is_open)

    def per_grain(scale: float, offset: float, stream: str) -> np.ndarray:
        uid = particle_uids(table, owner)
        sides = []
        for keys in (
            np.minimum(sample.near_key, sample.next_key),
            np.maximum(sample.near_key, sample.next_key),
        ):
            value = grain_contrast(lattice.seed, keys, uid, stream) * np.float32(scale)
            sides.append(lookup.nearest(value + np.float32(offset)))
        return select(boundary >= 0, sides[1], sides[0])  # np.where(boundary >= 0, *sides)

    def contrast(scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
        return per_grain(scale, offset, CONTRAST_STREAM)

    def li_loss() -> np.ndarray:
        # smooth across node cells: the depletion length is about a node pitch
        return lookup.bilinear(cracks.li_loss(sample.signed_um, is_open))

    def grain_li() -> np.ndarray:
        return per_grain(1.0, 0.0, LI_STREAM)

    return FaceMicrostructure(boundary, open_pixels, contrast, li_loss, grain_li)


def at_points(
    lattice: GrainLattice,
    cracks: CrackModel,
    table: np.ndarray,
    owner: np.ndarray,
    axes: tuple[np.ndarray, np.ndarray],
    z_um: float,
    micro: MicrostructureParameters,
) -> FaceMicrostructure:
    """The point path: grains evaluated at the pixels that lie in a particle."""
    x, y = axes
    rows, cols = np.nonzero(owner >= 0)
    points = np.column_stack([x[cols], y[rows], np.full(rows.size, z_um)])
    sample: GrainSample = _primaries(
        grains_at_points(lattice, points), table, owner[rows, cols], micro
    )
    is_open = cracks.open_boundaries(sample, table, owner[rows, cols])
    boundary = np.full(owner.shape, np.inf, dtype=np.float32)
    boundary[rows, cols] = sample.signed_um
    open_pixels = np.zeros(owner.shape, dtype=bool)
    open_pixels[rows, cols] = is_open

    def per_grain(scale: float, offset: float, stream: str) -> np.ndarray:
        values = np.full(owner.shape, offset, dtype=np.float32)
        uid = particle_uids(table, owner[rows, cols])
        values[rows, cols] += grain_contrast(lattice.seed, sample.near_key, uid, stream) * scale
        return values

    def contrast(scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
        return per_grain(scale, offset, CONTRAST_STREAM)

    def li_loss() -> np.ndarray:
        return cracks.li_loss(boundary, open_pixels)

    def grain_li() -> np.ndarray:
        return per_grain(1.0, 0.0, LI_STREAM)

    return FaceMicrostructure(boundary, open_pixels, contrast, li_loss, grain_li)


def grid_subdivisions(axes: tuple[np.ndarray, np.ndarray], lattice: GrainLattice, most: int) -> int:
    """Nodes per lattice cell and axis for pixels of this pitch, 0 for the point path.

    Nodes at most ``most`` per cell, and no finer than the pixels by ``NODE_OVERSAMPLING``
    (a SIMS raster of 78 nm pixels gets 125 nm nodes, an image of 13 nm pixels 83 nm nodes);
    pixels coarser than ``GRID_PATH_MAX_PITCH`` nodes of one per cell take the point path.
    """
    pitch = min(float(np.median(np.diff(a))) if a.size > 1 else math.inf for a in axes)
    if pitch > GRID_PATH_MAX_PITCH * lattice.spacing_um:
        return 0
    return max(1, min(most, math.floor(lattice.spacing_um / (NODE_OVERSAMPLING * pitch))))
