"""Porosity calibration: the particle intensity whose pore fraction equals the recipe's target.

For a Boolean model of grains K (particles) with dilated grains K' (grown by the neck reach),
points in K, and in K' but not K, are covered by independent Poisson numbers of grains with
means mu = lambda E[V(K)] and mu' = lambda E[V(K') - V(K)], whatever the grain shape. Hence

    outside every particle, within reach of at most one:  exp(-mu - mu') (1 + mu')   (pore)
    inside a particle:                                     1 - exp(-mu)               (NMC)
    the rest (within reach of two or more particles):      CBD

Inside the particles a share f of the volume is internal pore or crack (independent, so
f = 1 - (1 - f_pores)(1 - f_cracks)), which counts as pore too. Porosity means the pore fraction
(CBD counts as solid, as a segmentation of SE images would count it), so the calibration solves

    exp(-mu - mu') (1 + mu') + f (1 - exp(-mu)) = target

for lambda. E[V] uses a deterministic quadrature of the radius law paired with a fixed sample
of shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize

from fibsims_twin.cracks import crack_volume_fraction
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.particles import radius_quantiles, shape_factors
from fibsims_twin.pores import InternalPores
from fibsims_twin.rng import keyed_generator

SHAPE_QUADRATURE_STREAM = "phantom.shape_quadrature"
SHAPE_QUADRATURE_SEED = 0


@dataclass(frozen=True)
class PhaseStatistics:
    """Intensity and the expected volume fractions of the phases it produces."""

    intensity_per_um3: float
    pore_fraction: float
    nmc_fraction: float
    cbd_fraction: float
    internal_pore_share: float  # of the particle volume: internal pores and cracks


@lru_cache(maxsize=16)
def mean_volumes_um3(p: PhantomParameters) -> tuple[float, float]:
    """E[V(K)] and E[V(K')] over the particle size and shape laws."""
    radii = radius_quantiles(p, p.shape_quadrature_points)
    rng = keyed_generator(SHAPE_QUADRATURE_SEED, SHAPE_QUADRATURE_STREAM)
    axes = radii[:, None] * shape_factors(rng, radii.size, p)
    volume = 4.0 / 3.0 * math.pi * np.prod(axes, axis=1)
    dilated = 4.0 / 3.0 * math.pi * np.prod(axes + p.cbd_neck_reach_um, axis=1)
    return float(volume.mean()), float(dilated.mean())


def internal_pore_share(p: PhantomParameters, micro: MicrostructureParameters) -> float:
    pores = InternalPores.of(0, micro).fraction()
    cracks = crack_volume_fraction(micro, p)
    return 1.0 - (1.0 - pores) * (1.0 - cracks)


def calibrate(
    target_pore_fraction: float, p: PhantomParameters, micro: MicrostructureParameters
) -> PhaseStatistics:
    """The particle intensity whose pore fraction (internal pores and cracks included) is the
    target; refuses a target below the internal share (no particle arrangement reaches it)."""
    volume, dilated = mean_volumes_um3(p)
    shell = dilated - volume
    internal = internal_pore_share(p, micro)
    if target_pore_fraction <= internal:
        raise ValueError(
            f"porosity {target_pore_fraction} is below the particles' own internal porosity "
            f"{internal:.3f} (pores and cracks); raise it or lower the internal fractions"
        )

    def pore(lam: float) -> float:
        outside = math.exp(-lam * dilated) * (1.0 + lam * shell)
        return outside + internal * (1.0 - math.exp(-lam * volume))

    upper = 1.0 / volume
    while pore(upper) > target_pore_fraction:
        upper *= 2.0
    lam = float(optimize.brentq(lambda v: pore(v) - target_pore_fraction, 0.0, upper, xtol=1e-14))
    mu, mu_shell = lam * volume, lam * shell
    envelope = 1.0 - math.exp(-mu)
    cbd = math.exp(-mu) * (1.0 - math.exp(-mu_shell) * (1.0 + mu_shell))
    return PhaseStatistics(lam, pore(lam), envelope * (1.0 - internal), cbd, internal)
