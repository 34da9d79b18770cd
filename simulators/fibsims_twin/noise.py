"""Beam-spot blur and shot noise: the two things between an expected signal and a count.

Why one Poisson draw of the frame sum: frames of one scan are independent Poisson processes, so
their sum is Poisson with the summed mean; drawing once per pixel is exact and ``frames`` times
cheaper.

Why an approximation above a mean of ~100 counts: an exact Poisson draw of a 1536 x 1024 image
costs ~45 ms, most of the per-slice budget. Above ``normal_approximation_min_mean`` a count is
drawn as round(mean + sqrt(mean) z), which keeps the Poisson mean and variance (its skewness
1/sqrt(mean) < 0.1 is what is lost). z comes from a 65,536-entry table of normal quantiles
indexed by random 16-bit integers: 4x cheaper than a Gaussian generator, exact to 4e-5 sigma
near the centre, and it truncates only the tails beyond 4.3 sigma (a 2e-5 share).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage, special

from fibsims_twin.parameters import NoiseParameters

QUANTILE_LEVELS = 1 << 16  # one per uint16 value


@lru_cache(maxsize=1)
def normal_quantiles() -> np.ndarray:
    """Standard normal quantiles at the midpoints of 65,536 equal-probability bins."""
    levels = (np.arange(QUANTILE_LEVELS) + 0.5) / QUANTILE_LEVELS
    table = special.ndtri(levels).astype(np.float32)
    table.flags.writeable = False
    return table


def gaussian_kernel(sigma_px: float, truncate_sigmas: float) -> np.ndarray:
    radius = int(truncate_sigmas * sigma_px + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma_px) ** 2)
    return kernel / kernel.sum()


def _blur_rows(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve along axis 0 with edge rows repeated, by shifted slices (cache friendly)."""
    radius = kernel.size // 2
    height = image.shape[0]
    index = np.clip(np.arange(-radius, height + radius), 0, height - 1)
    padded = image[index]
    out = kernel[radius].astype(image.dtype) * image
    for k in range(kernel.size):
        if k != radius:
            out += kernel[k].astype(image.dtype) * padded[k : k + height]
    return out


def blur(expected: np.ndarray, sigma_px: float, p: NoiseParameters) -> np.ndarray:
    """Convolve with the Gaussian beam spot (edges extended); narrow spots are left alone."""
    if sigma_px < p.min_blur_sigma_px:
        return expected
    kernel = gaussian_kernel(sigma_px, p.blur_truncate_sigmas)
    across = ndimage.correlate1d(expected, kernel, axis=1, mode="nearest")
    return _blur_rows(across, kernel)


def shot_noise(rng: np.random.Generator, expected: np.ndarray, p: NoiseParameters) -> np.ndarray:
    """Counts drawn from Poisson(expected), same dtype as ``expected`` (integer-valued)."""
    mean = np.maximum(expected, 0)
    uniform16 = rng.integers(0, QUANTILE_LEVELS, size=mean.shape, dtype=np.uint16)
    counts = normal_quantiles().take(uniform16).astype(mean.dtype, copy=False)
    counts *= np.sqrt(mean)
    counts += mean
    np.rint(counts, out=counts)
    np.maximum(counts, 0, out=counts)
    low = mean < p.normal_approximation_min_mean
    if low.any():
        counts[low] = rng.poisson(mean[low])
    return counts
