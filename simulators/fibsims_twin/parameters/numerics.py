"""Numerical choices of the samplers: not physics, but part of what the twin computes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoiseParameters:
    """Shot-noise samplers, blur, and the depth sampling of a SIMS raster."""

    # numerical: above this mean a Poisson count is drawn as round(N(mean, mean)); the
    # skewness 1/sqrt(mean) < 0.1 is invisible in images and maps, and it is ~3x faster.
    normal_approximation_min_mean: float = 100.0
    # numerical: dead-time-limited counts (binomial per extraction) are drawn from a normal law
    # of the same mean and variance above this variance (skewness < 0.3), exactly below it.
    binomial_normal_min_variance: float = 10.0
    # numerical: below this mean (pores on a Li map) a count is 0 or 1, drawn as one Bernoulli
    # trial: the chance of two counts, ~mean^2 / 2, is below 5e-7
    bernoulli_max_mean: float = 1e-3
    min_blur_sigma_px: float = 0.25  # numerical: narrower spots are not blurred
    blur_truncate_sigmas: float = 2.5  # numerical: Gaussian kernel half-width
    # numerical: a SIMS raster integrates the depth it sputters; the phantom is sampled at this
    # many depths (mid-points of equal layers) across it.
    raster_depth_samples: int = 2
