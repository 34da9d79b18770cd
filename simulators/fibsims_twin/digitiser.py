"""ADC detection of a ToF peak: several ions per extraction, up to the digitiser's range.

Why not a counting TDC: TofDAQ digitises the MCP signal with an ADC (its files carry a 'Single
Ion Signal' calibration), so the ions of one peak that arrive in one extraction add up to a
larger signal and are all recorded. What limits it is the digitiser's range: a light peak is
one or two samples wide, so once its ions fill the range of 2^bits levels (``K`` single-ion
signals, ``TofParameters.max_ions_per_extraction``) more ions add nothing. Per extraction the
in-window ions are Poisson with mean lambda = w N / n (N ions of the peak on the pixel, n
extractions, w the share of the peak inside its integration window) and the record is
min(X, K). Over n extractions the count is the sum of n such independent clipped draws, with

    mean     n m1,  m1 = lambda P(X <= K-1) + K P(X > K)
    variance n v1,  v1 = lambda^2 P(X <= K-2) + lambda P(X <= K-1) + K^2 P(X > K) - m1^2

(K = 1 is the counting TDC: m1 = 1 - exp(-lambda)). Why this sampler: n is 20..100 extractions
per pixel and a map has 65,536 pixels, so the sum is drawn per pixel, never per extraction:
where clipping is negligible (lambda below :func:`clip_free_mean`: a relative loss below
``clip_negligible_loss``) the
sum is exactly Poisson(n lambda), drawn as :func:`fibsims_twin.noise.shot_noise` draws it;
where it is not, from the normal law of the exact mean and variance (a sum of >= 20 bounded
draws), capped at n K. The correction in ``fibsims.data.dead_time`` inverts this mean.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from fibsims_twin.noise import normal_draw
from fibsims_twin.parameters import NoiseParameters

MOMENT_TABLE_POINTS = 8192  # numerical: nodes of the interpolated moments of min(X, K)


def clipped_moments(lam: np.ndarray, max_ions: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of min(Poisson(lam), max_ions), float64."""
    lam = np.asarray(lam, dtype=np.float64)
    k = float(max_ions)
    below_k1 = special.pdtr(k - 1, lam)
    below_k2 = special.pdtr(k - 2, lam) if max_ions >= 2 else np.zeros_like(lam)
    above_k = special.pdtrc(k, lam)
    mean = lam * below_k1 + k * above_k
    second = lam * lam * below_k2 + lam * below_k1 + k * k * above_k
    return mean, np.maximum(second - mean * mean, 0.0)


@lru_cache(maxsize=16)
def _moment_table(
    max_ions: int, negligible_loss: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lambda, m1, v1) on a fine grid from :func:`clip_free_mean` to where the record is K
    on almost every extraction (beyond it: m1 = K, v1 = 0)."""
    top = 4.0 * max_ions + 10.0 * np.sqrt(max_ions) + 10.0
    lam = np.linspace(clip_free_mean(max_ions, negligible_loss), top, MOMENT_TABLE_POINTS)
    mean, variance = clipped_moments(lam, max_ions)
    return lam, mean, variance


def _clipped_moments_fast(
    lam: np.ndarray, max_ions: int, negligible_loss: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clipped_moments` interpolated in a table (an incomplete gamma function per pixel
    would cost ~15 ms a map); relative error < 1e-5."""
    grid, mean, variance = _moment_table(max_ions, negligible_loss)
    return np.interp(lam, grid, mean), np.interp(lam, grid, variance, right=0.0)


@lru_cache(maxsize=16)
def clip_free_mean(max_ions: int, negligible_loss: float) -> float:
    """The largest per-extraction mean whose clipping loses less than ``negligible_loss`` of
    its ions (on a fine geometric grid; 0 when even the smallest mean loses more)."""
    grid = np.geomspace(1e-9, 4.0 * max_ions + 10.0, 4096)
    mean, _ = clipped_moments(grid, max_ions)
    lossy = np.flatnonzero(1.0 - mean / grid > negligible_loss)
    return float(grid[lossy[0] - 1]) if lossy.size and lossy[0] > 0 else 0.0


def recorded_mean(
    ions: np.ndarray, extractions: int, window: float, max_ions: int, p: NoiseParameters
) -> np.ndarray:
    """Mean counts the window records for a mean of ``ions`` ions of the peak per pixel over
    ``extractions`` extractions: n m1(w N / n) (float32)."""
    n = float(extractions)
    lam = np.maximum(np.asarray(ions, dtype=np.float32), 0) * np.float32(window / n)
    out = lam * np.float32(n)
    clipped = lam > clip_free_mean(max_ions, p.clip_negligible_loss)
    if clipped.any():
        mean, _ = _clipped_moments_fast(lam[clipped], max_ions, p.clip_negligible_loss)
        out[clipped] = mean * n
    return out


def digitised_counts(
    rng: np.random.Generator,
    ions: np.ndarray,
    extractions: int,
    window: float,
    max_ions: int,
    p: NoiseParameters,
) -> np.ndarray:
    """Recorded counts of a peak in its window per pixel (float32), for a mean of ``ions``
    ions of the whole peak per pixel (all extractions)."""
    n = int(extractions)
    lam = np.maximum(ions, 0).astype(np.float32) * np.float32(window / n)
    mean = lam * np.float32(n)
    variance = mean.copy()
    clipped = lam > clip_free_mean(max_ions, p.clip_negligible_loss)
    if clipped.any():
        m1, v1 = _clipped_moments_fast(lam[clipped], max_ions, p.clip_negligible_loss)
        mean[clipped] = m1 * n
        variance[clipped] = v1 * n
    counts = normal_draw(rng, mean, np.sqrt(variance))
    np.minimum(counts, np.float32(n * max_ions), out=counts)
    low = (mean < p.normal_approximation_min_mean) & ~clipped
    if low.any():
        counts[low] = rng.poisson(mean[low])
    return counts
