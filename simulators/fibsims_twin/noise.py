"""Beam-spot blur and counting noise: what lies between an expected signal and a count.

Why one draw of the frame sum: frames of one scan are independent Poisson processes, so their
sum is Poisson with the summed mean; drawing once per pixel is exact and ``frames`` times
cheaper. Amplifier noise (Gaussian, independent per frame) adds its variance to the same draw.

Why an approximation above a mean of ~100 counts: an exact Poisson draw of a 1536 x 1024 image
costs ~45 ms, most of the per-slice budget. Above ``normal_approximation_min_mean`` a count is
drawn as round(mean + sqrt(variance) z), which keeps the mean and variance (the skewness
1/sqrt(mean) < 0.1 is what is lost). z comes from a 65,536-entry table of normal quantiles
indexed by random 16-bit integers: 4x cheaper than a Gaussian generator, exact to 4e-5 sigma
near the centre, and it truncates only the tails beyond 4.3 sigma (a 2e-5 share).

The ToF detector's own law (several ions per extraction, up to the digitiser's range) is in
:mod:`fibsims_twin.digitiser`; it draws with the same normal sampler.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage, special

from fibsims_twin import parallel
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
    """Convolve along axis 0 with edge rows repeated, by shifted slices (cache friendly); the
    kernel is symmetric, so each pair of taps costs one multiply. The interior rows are done
    in bands on both threads (:func:`fibsims_twin.parallel.bands`: each element sees the same
    operations in the same order); the few rows within the kernel's reach of an edge are
    summed row by row."""
    radius = kernel.size // 2
    height = image.shape[0]
    weights = kernel.astype(image.dtype)
    out = np.empty_like(image)

    def rows(band: slice) -> None:
        low, high = max(band.start, radius), min(band.stop, height - radius)
        if high <= low:
            return
        target = out[low:high]
        np.multiply(image[low:high], weights[radius], out=target)
        pair = np.empty_like(target)
        for k in range(1, radius + 1):
            np.add(image[low - k : high - k], image[low + k : high + k], out=pair)
            pair *= weights[radius + k]
            target += pair

    parallel.bands(height, rows, image.size)
    edges = sorted(set(range(min(radius, height))) | set(range(max(height - radius, 0), height)))
    for row in edges:
        taps = np.clip(row + np.arange(-radius, radius + 1), 0, height - 1)
        out[row] = weights @ image[taps]
    return out


def blur(expected: np.ndarray, sigma_px: float, p: NoiseParameters) -> np.ndarray:
    """Convolve with the Gaussian beam spot (edges extended); narrow spots are left alone."""
    if sigma_px < p.min_blur_sigma_px:
        return expected
    kernel = gaussian_kernel(sigma_px, p.blur_truncate_sigmas)
    across = np.empty_like(expected)

    def rows(band: slice) -> None:  # each row is filtered on its own: bands give the same bits
        ndimage.correlate1d(expected[band], kernel, axis=1, output=across[band], mode="nearest")

    parallel.bands(expected.shape[0], rows, expected.size)
    return _blur_rows(across, kernel)


def standard_normals(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """The normal sampler's z values (float32) for an array of ``shape``: one 16-bit draw per
    element, looked up in :func:`normal_quantiles`. Split from :func:`normal_draw` so a caller
    can draw them beforehand (on the worker thread) while it computes the means."""
    uniform16 = rng.integers(0, QUANTILE_LEVELS, size=shape, dtype=np.uint16)
    return normal_quantiles().take(uniform16)


def normal_draw(
    rng: np.random.Generator,
    mean: np.ndarray,
    std: np.ndarray,
    normals: np.ndarray | None = None,
) -> np.ndarray:
    """round(mean + std z), at least 0; ``normals``: z drawn already by
    :func:`standard_normals` from ``rng`` (overwritten), else drawn here."""
    z = standard_normals(rng, mean.shape) if normals is None else normals
    counts = z.astype(mean.dtype, copy=False)
    counts *= std
    counts += mean
    np.rint(counts, out=counts)
    np.maximum(counts, 0, out=counts)
    return counts


def shot_noise(
    rng: np.random.Generator,
    expected: np.ndarray,
    p: NoiseParameters,
    extra_variance: float = 0.0,
    normals: np.ndarray | None = None,
) -> np.ndarray:
    """Counts from Poisson(expected) plus Gaussian noise of ``extra_variance``, same dtype.

    ``expected`` must be non-negative. Both draws are independent of the values elsewhere in
    the array, so a pixel's noise depends only on its own mean and its place in the stream.
    ``normals``: the first draw of ``rng``, made beforehand (:func:`standard_normals`).
    """
    mean = expected
    z = standard_normals(rng, mean.shape) if normals is None else normals
    counts = z.astype(mean.dtype, copy=False)
    variance = mean.dtype.type(extra_variance)

    def rows(band: slice) -> None:  # normal_draw's arithmetic, elementwise, in bands
        std = mean[band] + variance
        np.sqrt(std, out=std)
        values = counts[band]
        values *= std
        values += mean[band]
        np.rint(values, out=values)
        np.maximum(values, 0, out=values)

    parallel.bands(mean.shape[0], rows, mean.size)
    if mean.min() < p.normal_approximation_min_mean:
        low = mean < p.normal_approximation_min_mean
        exact = rng.poisson(mean[low]).astype(mean.dtype)
        if extra_variance > 0:
            exact += np.sqrt(extra_variance) * rng.standard_normal(exact.size).astype(mean.dtype)
            np.maximum(np.rint(exact, out=exact), 0, out=exact)
        counts[low] = exact
    return counts
