"""The ToF sum spectrum on the TofDAQ sample axis.

Why a sample axis: the run's SIMS file follows the TofDAQ layout, whose spectra are indexed by
ADC sample i with the mode-0 calibration i = p1 sqrt(m) + p2 (docs/physics.md). A peak of resolving
power R = m / dm has a core width of p1 sqrt(m) / (2 R) samples (FWHM), so light ions are a
couple of samples wide and Xe several, with a tail to high mass (:mod:`fibsims_twin.peak_shape`);
each peak's area is spread over its samples by integrating the shape over every sample, so no
counts are lost however narrow it is. A doubly charged ion flies as m / 2. Which peaks there are
and their areas: :mod:`fibsims_twin.tof` (mapped elements, Xe) and
:mod:`fibsims_twin.spectrum_lines` (the molecular, fragment and contamination ions).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from fibsims.instrument import Spectrum
from fibsims_twin.parameters import TofParameters
from fibsims_twin.peak_shape import spread_over_samples
from fibsims_twin.timing import n_samples


def mass_axis_u(p: TofParameters) -> np.ndarray:
    """Mass of every sample, m = ((i - p2) / p1)^2; 0 before the p2 offset."""
    i = np.arange(n_samples(p), dtype=np.float64)
    return (np.maximum(i - p.calibration_p2, 0.0) / p.calibration_p1) ** 2


def expected_spectrum(
    peaks: Iterable[tuple[float, float]], background_per_sample: float, p: TofParameters
) -> np.ndarray:
    """Mean counts per sample: a flat background plus peaks of (mass per charge, area), each
    drawn with the tailed shape of :mod:`fibsims_twin.peak_shape` (all peaks at once)."""
    table = np.asarray(list(peaks), dtype=np.float64).reshape(-1, 2)
    expected = spread_over_samples(table[:, 0], table[:, 1], n_samples(p), p)
    expected += background_per_sample
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
