"""Beam-spot blur and shot noise: the two things between an expected signal and a count.

Why one Poisson draw of the frame sum: frames of one scan are independent Poisson processes, so
their sum is Poisson with the summed mean; drawing once per pixel is exact and ``frames`` times
cheaper. For large means the draw uses the normal approximation (see
``NoiseParameters.normal_approximation_min_mean``), which keeps the mean and variance of the
Poisson law and is what makes a 1536 x 1024 image affordable per slice.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fibsims_twin.parameters import NoiseParameters


def blur(expected: np.ndarray, sigma_px: float, p: NoiseParameters) -> np.ndarray:
    """Convolve with the Gaussian beam spot (edges extended); narrow spots are left alone."""
    if sigma_px < p.min_blur_sigma_px:
        return expected
    return ndimage.gaussian_filter(
        expected, sigma_px, mode="nearest", truncate=p.blur_truncate_sigmas
    )


def shot_noise(rng: np.random.Generator, expected: np.ndarray, p: NoiseParameters) -> np.ndarray:
    """Counts drawn from Poisson(expected), same dtype as ``expected`` (integer-valued)."""
    mean = np.maximum(expected, 0)
    counts = rng.standard_normal(mean.shape, dtype=np.float32).astype(mean.dtype, copy=False)
    counts *= np.sqrt(mean)
    counts += mean
    np.rint(counts, out=counts)
    np.maximum(counts, 0, out=counts)
    low = mean < p.normal_approximation_min_mean
    if low.any():
        counts[low] = rng.poisson(mean[low])
    return counts
