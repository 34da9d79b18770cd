"""Intergranular cracks: which grain boundaries are open, and the lithium lost beside them.

docs/physics.md: cycling opens intergranular cracks in secondary particles, and Li is depleted along
them where electrolyte penetrates. A crack here is a slab of the crack opening centred on a grain
boundary (:mod:`fibsims_twin.grains` gives the exact distance to it). Each particle carries a few
radial crack planes through its centre; a boundary belongs to a crack when its midpoint lies
within ``crack_band_um`` of one of them and its normal is close to that plane's normal, so the
crack follows grain boundaries in a zigzag around the plane. Such a boundary is open when a hash
of (twin seed, its two grains) falls below continuity x sqrt(1 - rho^2), rho the normalised
radius of its midpoint: cracks run from the core (where the anisotropic lattice strain is
largest) and break up toward the surface. All of it is ASSUMED (``MicrostructureParameters``).

Next to an open boundary the Li content x drops by ``crack_li_depletion`` at the wall, recovering
as exp(-distance / depletion length).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fibsims_twin.grains import GrainLattice, GrainSample, grains_at_points
from fibsims_twin.hashing import uniform
from fibsims_twin.parameters import NM_PER_UM, MicrostructureParameters, PhantomParameters
from fibsims_twin.particles import (
    CRACK_PLANES,
    CX,
    CZ,
    MAX_CRACK_PLANES,
    N_COLUMNS,
    PLANE_NORMALS,
    Q_COLUMNS,
    crack_planes,
)
from fibsims_twin.rng import keyed_generator

CRACK_STREAM = "phantom.cracked_boundaries"
CALIBRATION_STREAM = "phantom.crack_calibration"
CALIBRATION_SEED = 0  # the crack share is a property of the parameters, not of one phantom
CALIBRATION_PARTICLES = 256  # reference particles (each its own crack planes)
CALIBRATION_SPACING_UM = 100.0  # apart on a line, so their grain lattices do not repeat


def _quadratic(form: np.ndarray, d: np.ndarray) -> np.ndarray:
    qxx, qxy, qxz, qyy, qyz, qzz = form
    x, y, z = d
    return qxx * x * x + qyy * y * y + qzz * z * z + 2 * (qxy * x * y + qxz * x * z + qyz * y * z)


@dataclass(frozen=True)
class CrackModel:
    """Open boundaries and Li depletion of one phantom."""

    seed: int
    p: MicrostructureParameters

    @property
    def half_opening_um(self) -> float:
        return 0.5 * self.p.crack_opening_nm / NM_PER_UM

    def open_boundaries(
        self, grains: GrainSample, table: np.ndarray, owner: np.ndarray
    ) -> np.ndarray:
        """Whether the boundary between each point's two nearest grains is open (bool).

        ``owner`` (same shape as the grain arrays) indexes the particle of each point in
        ``table`` (-1: none); points are evaluated particle by particle, only in particles
        that have crack planes.
        """
        is_open = np.zeros(owner.shape, dtype=bool)
        flat_owner = owner.reshape(-1)
        flat_open = is_open.reshape(-1)
        near = grains.near_seed.reshape(3, -1)
        after = grains.next_seed.reshape(3, -1)
        near_key = grains.near_key.reshape(-1)
        next_key = grains.next_key.reshape(-1)
        for k in np.unique(flat_owner[flat_owner >= 0]):
            row = table[k]
            if row[CRACK_PLANES] < 1:
                continue
            index = np.flatnonzero(flat_owner == k)
            keys = (near_key[index], next_key[index])
            flat_open[index] = self._open(near[:, index], after[:, index], keys, row)
        return is_open

    def _open(
        self,
        near: np.ndarray,
        after: np.ndarray,
        keys: tuple[np.ndarray, np.ndarray],
        row: np.ndarray,
    ) -> np.ndarray:
        """Open boundaries of points (near / next seeds (3, n), their keys) in one particle."""
        p = self.p
        mid = 0.5 * (near + after) - row[CX : CZ + 1, None]
        normal = after - near
        normal /= np.sqrt(np.einsum("in,in->n", normal, normal))
        on_crack = np.zeros(mid.shape[1], dtype=bool)
        normals = row[PLANE_NORMALS].reshape(MAX_CRACK_PLANES, 3)
        for plane in normals[: int(row[CRACK_PLANES])]:
            near_plane = np.abs(plane @ mid) < p.crack_band_um
            near_plane &= np.abs(plane @ normal) > p.crack_alignment_min
            on_crack |= near_plane
        candidates = np.flatnonzero(on_crack)
        rho2 = _quadratic(row[Q_COLUMNS, None], mid[:, candidates])
        chance = p.crack_continuity * np.sqrt(np.clip(1.0 - rho2, 0.0, None))
        low = np.minimum(keys[0][candidates], keys[1][candidates])
        high = np.maximum(keys[0][candidates], keys[1][candidates])
        is_open = np.zeros(mid.shape[1], dtype=bool)
        is_open[candidates] = uniform(self.seed, CRACK_STREAM, low, high) < chance
        return is_open

    def in_crack(self, boundary_um: np.ndarray, is_open: np.ndarray) -> np.ndarray:
        """Flat indices of the points inside an open crack slab (only the few beside an open
        boundary are tested)."""
        index = np.flatnonzero(is_open)
        return index[np.abs(boundary_um.reshape(-1)[index]) < self.half_opening_um]

    def li_loss(self, boundary_um: np.ndarray, is_open: np.ndarray) -> np.ndarray:
        """Drop of the Li content x beside open boundaries (float32)."""
        length = self.p.crack_depletion_length_nm / NM_PER_UM
        beyond = np.maximum(np.abs(boundary_um) - np.float32(self.half_opening_um), 0)
        loss = np.float32(self.p.crack_li_depletion) * np.exp(-beyond / np.float32(length))
        return np.where(is_open, loss, np.float32(0)).astype(np.float32)


@lru_cache(maxsize=16)
def crack_volume_fraction(micro: MicrostructureParameters, phantom: PhantomParameters) -> float:
    """Share of a particle's volume inside open cracks, by sampling reference particles.

    ``CALIBRATION_PARTICLES`` spheres of the mean radius, each with its own draw of crack
    planes, sampled at points uniform inside them and evaluated by the very rules of
    :class:`CrackModel` on a lattice of a fixed seed: a phantom's share differs from it only by
    sampling (~1e-3).
    """
    rng = keyed_generator(CALIBRATION_SEED, CALIBRATION_STREAM)
    n = micro.crack_calibration_points
    direction = rng.standard_normal((3, n))
    direction /= np.linalg.norm(direction, axis=0)
    radius = phantom.mean_radius_um
    owner = np.arange(n) % CALIBRATION_PARTICLES
    table = np.zeros((CALIBRATION_PARTICLES, N_COLUMNS))
    table[:, CX : CZ + 1] = CALIBRATION_SPACING_UM * np.arange(CALIBRATION_PARTICLES)[:, None]
    table[:, Q_COLUMNS] = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0]) / radius**2
    planes, normals = crack_planes(rng, CALIBRATION_PARTICLES, micro)
    table[:, CRACK_PLANES] = planes
    table[:, PLANE_NORMALS] = normals
    points = table[owner, CX : CZ + 1] + (direction * radius * rng.random(n) ** (1 / 3)).T
    lattice = GrainLattice(
        CALIBRATION_SEED,
        micro.grain_spacing_um,
        micro.grain_jitter,
        micro.grain_lattice_irregularity,
    )
    grains = grains_at_points(lattice, points)
    model = CrackModel(CALIBRATION_SEED, micro)
    is_open = model.open_boundaries(grains, table, owner)
    return model.in_crack(grains.signed_um, is_open).size / n
