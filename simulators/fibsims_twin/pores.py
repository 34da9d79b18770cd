"""Closed internal pores of the secondary particles: small spheres on a jittered lattice.

Why a lattice: hundreds of pores cross every face, and each must be a fixed sphere of the
sample. Space is cut into cubes of the pore spacing; a cube holds a pore with probability q,
centred at random but wholly inside it, all decided by hashing (twin seed, cube). Pores then
never overlap, so the pore share of a particle is exactly q V / s^3, and q follows from the
target share. Only points inside a particle become pore (in the pore space they change nothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fibsims_twin.hashing import uniform
from fibsims_twin.parameters import MicrostructureParameters
from fibsims_twin.sections import Spans, circle_spans

PORE_STREAM = "phantom.internal_pores"


@dataclass(frozen=True)
class InternalPores:
    """The pore lattice of one phantom."""

    seed: int
    radius_um: float
    spacing_um: float
    occupancy: float

    @classmethod
    def of(cls, seed: int, p: MicrostructureParameters) -> InternalPores:
        volume = 4.0 / 3.0 * math.pi * p.internal_pore_radius_um**3
        occupancy = p.internal_pore_fraction * p.internal_pore_spacing_um**3 / volume
        if (
            not 0.0 <= occupancy <= 1.0
            or 2 * p.internal_pore_radius_um > p.internal_pore_spacing_um
        ):
            raise ValueError(
                "internal pores: radius, spacing and fraction are inconsistent (a pore must fit "
                "its lattice cube and the fraction needs at most one pore per cube); widen "
                "internal_pore_spacing_um or lower internal_pore_fraction"
            )
        return cls(int(seed), p.internal_pore_radius_um, p.internal_pore_spacing_um, occupancy)

    def fraction(self) -> float:
        """Share of a particle's volume that is internal pore."""
        return self.occupancy * 4.0 / 3.0 * math.pi * self.radius_um**3 / self.spacing_um**3

    def spans(self, x: np.ndarray, y: np.ndarray, z_um: float) -> Spans:
        """Row spans of the circles the plane z cuts from the pores (phantom frame)."""
        s, r = self.spacing_um, self.radius_um
        i = np.arange(math.floor((x[0] - r) / s), math.floor((x[-1] + r) / s) + 1)
        j = np.arange(math.floor((y[0] - r) / s), math.floor((y[-1] + r) / s) + 1)
        k = np.arange(math.floor((z_um - r) / s), math.floor((z_um + r) / s) + 1)
        kk, jj, ii = (a.ravel() for a in np.meshgrid(k, j, i, indexing="ij"))
        present = uniform(self.seed, PORE_STREAM, ii, jj, kk, 3) < self.occupancy
        ii, jj, kk = ii[present], jj[present], kk[present]
        room = s - 2 * r
        cx, cy, cz = (
            (cell * s + r + room * uniform(self.seed, PORE_STREAM, ii, jj, kk, axis))
            for axis, cell in enumerate((ii, jj, kk))
        )
        return circle_spans(x, y, cx, cy, r * r - (cz - z_um) ** 2)
