"""The ToF sum spectrum on the TofDAQ sample axis.

Why a sample axis: the run's SIMS file follows the TofDAQ layout, whose spectra are indexed by
ADC sample i with the mode-0 calibration i = p1 sqrt(m) + p2 (physics.md). A peak of resolving
power R = m / dm has a width of p1 sqrt(m) / (2 R) samples (FWHM), so light ions are a couple
of samples wide and Xe several; each peak's area is spread over its samples by integrating the
Gaussian over every sample, so no counts are lost however narrow it is. A doubly charged ion
flies as m / 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import special

from fibsims.instrument import Spectrum
from fibsims_twin.parameters import GAUSSIAN_FWHM_PER_SIGMA, TofParameters


def n_samples(p: TofParameters) -> int:
    return math.ceil(p.calibration_p1 * math.sqrt(p.max_mass_u) + p.calibration_p2) + 1


def mass_axis_u(p: TofParameters) -> np.ndarray:
    """Mass of every sample, m = ((i - p2) / p1)^2; 0 before the p2 offset."""
    i = np.arange(n_samples(p), dtype=np.float64)
    return (np.maximum(i - p.calibration_p2, 0.0) / p.calibration_p1) ** 2


def sample_index(mass_u: float, p: TofParameters) -> float:
    return p.calibration_p1 * math.sqrt(mass_u) + p.calibration_p2


def peak_sigma_samples(mass_u: float, p: TofParameters) -> float:
    fwhm = p.calibration_p1 * math.sqrt(mass_u) / (2.0 * p.mass_resolving_power)
    return fwhm / GAUSSIAN_FWHM_PER_SIGMA


def expected_spectrum(
    peaks: Iterable[tuple[float, float]], background_per_sample: float, p: TofParameters
) -> np.ndarray:
    """Mean counts per sample: a flat background plus Gaussian peaks of (mass per charge, area)."""
    expected = np.full(n_samples(p), background_per_sample)
    for mass_u, area in peaks:
        centre = sample_index(mass_u, p)
        sigma = peak_sigma_samples(mass_u, p)
        lo = max(math.floor(centre - p.peak_tail_sigmas * sigma), 0)
        hi = min(math.ceil(centre + p.peak_tail_sigmas * sigma) + 1, expected.size)
        if hi <= lo:
            continue
        edges = np.arange(lo, hi + 1) - 0.5
        cdf = special.ndtr((edges - centre) / sigma)
        expected[lo:hi] += area * np.diff(cdf)
    return expected


def sum_spectrum(
    rng: np.random.Generator,
    peaks: Iterable[tuple[float, float]],
    background_per_sample: float,
    p: TofParameters,
) -> Spectrum:
    expected = expected_spectrum(peaks, background_per_sample, p)
    return Spectrum(
        counts=rng.poisson(expected).astype(np.float64),
        mass_axis_u=mass_axis_u(p).astype(np.float32),
        calibration_p1=p.calibration_p1,
        calibration_p2=p.calibration_p2,
        sample_interval_s=p.sample_interval_s,
    )
