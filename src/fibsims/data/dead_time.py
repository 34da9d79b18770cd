"""Dead-time correction of ToF-SIMS count maps recorded by a counting TDC.

Why it is needed: a counting TDC records at most one ion of a peak per extraction (the ions of
one mass arrive within a nanosecond or two, inside the detector's dead time). With n
extractions on a pixel and a mean of mu ions of the peak per extraction (Poisson), the
chance that an extraction records one is ``1 - exp(-mu)``, so the counts saturate towards n
and bright pixels (and the major isotope of a pair) read low: at the default raster 7Li+
loses ~12 % while 6Li+ loses ~1 %, and the 6Li/7Li ratio of the raw maps reads high.

The correction inverts that law per pixel: observed k of n extractions gives
``mu = -ln(1 - k / (w n))`` per extraction and ``w n mu`` counts, the counts the window would
have recorded without dead time. ``w`` is the share of a peak's ions its integration window
holds (``window_fraction``): the counted ion is the first of the peak to arrive, and it falls
in the window with that chance. With a window holding the whole peak (w = 1) this is the
textbook Poisson correction ``-n ln(1 - k/n)``; the twin's windows are m +- FWHM/2 of a
Gaussian peak, w = erf(sqrt(ln 2)) = 0.761 (docs/physics.md), and ignoring that under-corrects
the major peak (the 6Li/7Li ratio of a quick run reads ~4 % high with w = 1, see
docs/volumes.md).

n = extraction rate x dwell x frames. The extraction rate and the window's share are reported by
the instrument with each raster (``Raster.extraction_rate_hz``, ``Raster.peak_window_fraction``)
and recorded on the raster in run.h5.
"""

from __future__ import annotations

import numpy as np

SECOND_PER_MICROSECOND = 1e-6


def extractions_per_pixel(dwell_us: float, frames: int, extraction_rate_hz: float) -> int:
    """TOF extractions while the beam dwells on one pixel over all frames (at least 1), as the
    twin counts them (``TwinTofSpectrometer.extractions_per_pixel``)."""
    seconds = dwell_us * SECOND_PER_MICROSECOND * frames
    return max(1, round(extraction_rate_hz * seconds))


def expected_counts(
    ions_per_pixel: np.ndarray | float, extractions: int, window_fraction: float = 1.0
) -> np.ndarray:
    """The forward law: mean counts a counting TDC records for a mean of ``ions_per_pixel``
    ions of the peak over ``extractions`` extractions: ``w n (1 - exp(-N / n))``."""
    n = float(extractions)
    return window_fraction * n * -np.expm1(-np.asarray(ions_per_pixel, dtype=np.float64) / n)


def saturation_limit(extractions: int, window_fraction: float = 1.0) -> float:
    """The largest count the inversion takes at face value: half a count below ``w n``, where
    ``ln(1 - k / (w n))`` diverges. Higher counts are capped there (and reported)."""
    return window_fraction * extractions - 0.5


def correct_dead_time(
    counts: np.ndarray, extractions: int, window_fraction: float = 1.0
) -> tuple[np.ndarray, int]:
    """Dead-time-corrected counts (float32, same shape) and how many pixels were capped.

    ``counts``: observed counts per pixel of one peak; ``extractions``: n per pixel. Returns
    ``w n (-ln(1 - k / (w n)))``, equal to k at low counts; a pixel at or beyond
    :func:`saturation_limit` is capped there (its true count is unknowable: the TDC
    recorded an ion on every extraction). NaN stays NaN."""
    if extractions < 1:
        raise ValueError(f"extractions per pixel must be at least 1, got {extractions}")
    if not 0.0 < window_fraction <= 1.0:
        raise ValueError(f"the window fraction must lie in (0, 1], got {window_fraction}")
    k = np.asarray(counts, dtype=np.float64)
    limit = saturation_limit(extractions, window_fraction)
    capped = int(np.count_nonzero(k > limit)) if limit > 0 else int(np.count_nonzero(k > 0))
    scale = window_fraction * extractions
    k = np.minimum(k, max(limit, 0.0))
    corrected = -scale * np.log1p(-k / scale)
    return corrected.astype(np.float32), capped
