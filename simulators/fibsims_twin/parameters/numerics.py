"""Numerical choices of the samplers: not physics, but part of what the twin computes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoiseParameters:
    """Shot-noise samplers, blur, and the depth sampling of a SIMS raster."""

    # numerical: above this mean a Poisson count is drawn as round(N(mean, mean)); the
    # skewness 1/sqrt(mean) < 0.1 is invisible in images and maps, and it is ~3x faster.
    normal_approximation_min_mean: float = 100.0
    # numerical: a ToF peak's per-extraction mean whose clipping at the digitiser's range loses
    # less than this share of its ions is drawn as unclipped (exact Poisson)
    clip_negligible_loss: float = 1e-7
    min_blur_sigma_px: float = 0.25  # numerical: narrower spots are not blurred
    blur_truncate_sigmas: float = 2.5  # numerical: Gaussian kernel half-width
    # numerical: a SIMS raster integrates the depth it sputters; the phantom is sampled at this
    # many depths (mid-points of equal layers) across it. One (the mid-depth) by measurement:
    # the sampling budget goes where the error is larger, across the 78 nm pixel rather than
    # down the ~20 nm layer (2 depths x 2 x 2 area samples cost 43 ms a raster, 2 x 2 at one
    # depth 30 ms; docs/physics.md, Performance).
    raster_depth_samples: int = 1
    # numerical: a SIMS pixel is sampled on a k x k grid across its area (k = this), so a
    # crack narrower than a pixel lowers its signal by its area share instead of aliasing into
    # a dotted line (docs/physics.md, Performance: 3 x 3 costs 47 ms a raster, 2 x 2 30 ms).
    raster_subpixel_samples: int = 2
