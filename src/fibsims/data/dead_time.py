"""Correction of ToF-SIMS count maps for the detector's saturation and the duty cycle's mass bias.

Why it is needed: TofDAQ digitises the detector with an ADC, so the ions of one peak that arrive
in one extraction add up and are all recorded, until the digitiser's range is full: at most K
ions of a peak per extraction (K = range / single-ion signal; K = 1 is a counting TDC). With n
extractions on a pixel and a mean of lambda ions of the peak in its window per extraction
(Poisson), an extraction records min(X, K), of mean

    m1(lambda) = lambda P(X <= K-1) + K P(X > K)

so bright pixels, and the major isotope of a pair, read low once lambda nears K. The correction
inverts that law per pixel: the observed k of n extractions gives m1 = k / n, solved for lambda
(m1 is increasing), and ``n lambda`` counts, the counts the window would have recorded without
saturation. Near m1 = K the inverse diverges: counts above half a count below n K are capped
there and reported (their true count is unknowable: the digitiser was full on every extraction).

Then the duty cycle: an orthogonal-extraction TOF catches a share D(m) of each mass that grows
as sqrt(m), so light peaks are under-represented relative to heavy ones (6Li+ by sqrt(6/7) =
0.93 against 7Li+). Where the instrument reports each peak's duty cycle the corrected counts are
divided by it: the ``*_corrected`` volumes are then ions of the peak (in its window) that
reached the extractor, comparable between masses. Isotope ratios need both corrections.

What it needs, as the instrument reports them with each raster (recorded on the raster in
run.h5): the extraction rate (n = rate x dwell x frames), the digitiser's range in ions
(``max_ions_per_extraction``) and the peaks' duty cycles.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

SECOND_PER_MICROSECOND = 1e-6
INVERSE_TABLE_POINTS = 8192  # interpolation nodes of the inverse of m1 (relative error < 1e-5)


def extractions_per_pixel(dwell_us: float, frames: int, extraction_rate_hz: float) -> int:
    """TOF extractions while the beam dwells on one pixel over all frames (at least 1), as the
    twin counts them (``TwinTofSpectrometer.extractions_per_pixel``)."""
    seconds = dwell_us * SECOND_PER_MICROSECOND * frames
    return max(1, round(extraction_rate_hz * seconds))


def clipped_mean(lam: np.ndarray | float, max_ions: int) -> np.ndarray:
    """m1: the mean of min(Poisson(lam), max_ions), what one extraction records."""
    lam = np.asarray(lam, dtype=np.float64)
    k = float(max_ions)
    return lam * special.pdtr(k - 1, lam) + k * special.pdtrc(k, lam)


def expected_counts(
    ions_in_window: np.ndarray | float, extractions: int, max_ions: int
) -> np.ndarray:
    """The forward law: mean counts recorded over ``extractions`` extractions for a mean of
    ``ions_in_window`` ions of the peak in its window per pixel: n m1(N / n)."""
    n = float(extractions)
    return n * clipped_mean(np.asarray(ions_in_window, dtype=np.float64) / n, max_ions)


def saturation_limit(extractions: int, max_ions: int) -> float:
    """The largest count the inversion takes at face value: half a count below n K."""
    return extractions * max_ions - 0.5


@lru_cache(maxsize=32)
def _inverse_table(extractions: int, max_ions: int) -> tuple[np.ndarray, np.ndarray]:
    """(m1, lambda) nodes of the inverse up to the saturation limit, m1 ascending."""
    top = saturation_limit(extractions, max_ions) / extractions
    # lambda where m1 reaches the top: bracket, then the nodes crowd towards it geometrically
    high = max(1.0, float(max_ions))
    while clipped_mean(high, max_ions) < top:
        high *= 2.0
    lam = np.concatenate(([0.0], np.geomspace(1e-6, high, INVERSE_TABLE_POINTS)))
    return clipped_mean(lam, max_ions), lam


def correct_saturation(
    counts: np.ndarray, extractions: int, max_ions: int
) -> tuple[np.ndarray, int]:
    """Saturation-corrected counts (float32, same shape) and how many pixels were capped.

    ``counts``: observed counts per pixel of one peak; ``extractions``: n per pixel;
    ``max_ions``: the digitiser's range in ions per extraction (K). Returns n m1^-1(k / n),
    equal to k where saturation is negligible; a pixel at or beyond :func:`saturation_limit`
    is capped there. NaN stays NaN."""
    if extractions < 1:
        raise ValueError(f"extractions per pixel must be at least 1, got {extractions}")
    if max_ions < 1:
        raise ValueError(f"the digitiser must record at least 1 ion per extraction, got {max_ions}")
    k = np.asarray(counts, dtype=np.float64)
    limit = saturation_limit(extractions, max_ions)
    capped = int(np.count_nonzero(k > limit))
    means, lams = _inverse_table(extractions, max_ions)
    per_extraction = np.minimum(k, limit) / extractions
    corrected = np.interp(per_extraction, means, lams) * extractions
    return corrected.astype(np.float32), capped


def correct_duty_cycle(counts: np.ndarray, duty_cycle: float) -> np.ndarray:
    """Counts divided by the share of the peak's ions the extraction caught (float32)."""
    if not 0.0 < duty_cycle <= 1.0:
        raise ValueError(f"a duty cycle must lie in (0, 1], got {duty_cycle}")
    return (np.asarray(counts, dtype=np.float32) / np.float32(duty_cycle)).astype(np.float32)
