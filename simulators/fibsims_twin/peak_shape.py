"""The shape of a ToF peak on the TofDAQ sample axis: a Gaussian core with a high-mass tail.

Why a tail: ions leave the sample with a spread of initial energies, and some form or fragment
after extraction has begun; both make ions arrive late, never early, so a real TOF peak rises
sharply and decays slowly to long flight time (high mass). The twin draws it as a Gaussian core
(FWHM m / R, i.e. p1 sqrt(m) / (2R) samples: physics.md's resolving power and TofDAQ's mode-0
calibration i = p1 sqrt(m) + p2) plus a share ``peak_tail_area_fraction`` of the area in an
exponentially modified Gaussian (the core convolved with a one-sided exponential of decay length
``peak_tail_length_per_fwhm`` x FWHM: a relative energy deficit gives a delay proportional to
the flight time, as the width is). Both parts are normalised, so the shape's integral is 1.

Its cumulative distribution is analytic (for the exponential part, with x the distance from the
core centre, s the core's sigma and t the decay length):

    F(x) = Phi(x / s) - exp(-x / t + s^2 / (2 t^2)) Phi(x / s - s / t)

evaluated in log space (``log_ndtr``) so that a tail much shorter than the core never overflows.
Integrating it over each sample's edges spreads a peak's area over its samples without losing
any, however narrow the peak is.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from fibsims_twin.parameters import GAUSSIAN_FWHM_PER_SIGMA, TofParameters


def sample_of_mass(mass_u: np.ndarray | float, p: TofParameters) -> np.ndarray:
    """TofDAQ sample index (fractional) of a mass per charge: i = p1 sqrt(m) + p2."""
    return p.calibration_p1 * np.sqrt(np.asarray(mass_u, dtype=np.float64)) + p.calibration_p2


def fwhm_samples(mass_u: np.ndarray | float, p: TofParameters) -> np.ndarray:
    """Core FWHM in samples: dm = m / R at constant R is dt = t / (2R) in flight time."""
    return (
        p.calibration_p1
        * np.sqrt(np.asarray(mass_u, dtype=np.float64))
        / (2.0 * p.mass_resolving_power)
    )


def shape_cdf(
    offset_samples: np.ndarray, sigma: np.ndarray, tail: np.ndarray, p: TofParameters
) -> np.ndarray:
    """Share of a peak's area before ``offset_samples`` from its core centre (broadcasting)."""
    z = offset_samples / sigma
    core = special.ndtr(z)
    log_tail = (
        -offset_samples / tail + 0.5 * (sigma / tail) ** 2 + special.log_ndtr(z - sigma / tail)
    )
    return core - p.peak_tail_area_fraction * np.exp(log_tail)


def widths(mass_u: np.ndarray, p: TofParameters) -> tuple[np.ndarray, np.ndarray]:
    """(core sigma, tail decay length), both in samples, per mass."""
    fwhm = fwhm_samples(mass_u, p)
    return fwhm / GAUSSIAN_FWHM_PER_SIGMA, fwhm * p.peak_tail_length_per_fwhm


def window_share(
    mass_u: np.ndarray, lower_u: float, upper_u: float, p: TofParameters
) -> np.ndarray:
    """Share of each peak (ion masses ``mass_u``) that falls inside a window in mass."""
    mass = np.asarray(mass_u, dtype=np.float64)
    centre = sample_of_mass(mass, p)
    sigma, tail = widths(mass, p)
    lo = sample_of_mass(lower_u, p) - centre
    hi = sample_of_mass(upper_u, p) - centre
    return shape_cdf(hi, sigma, tail, p) - shape_cdf(lo, sigma, tail, p)


def own_window_share(mass_u: float, p: TofParameters) -> float:
    """Share of a peak inside its own integration window m +- FWHM/2 (FWHM = m / R): 0.761 for
    the bare Gaussian core, less with the tail."""
    half = mass_u / (2.0 * p.mass_resolving_power)
    return float(window_share(np.array([mass_u]), mass_u - half, mass_u + half, p)[0])


def spread_over_samples(
    mass_u: np.ndarray, area: np.ndarray, n_samples: int, p: TofParameters
) -> np.ndarray:
    """Expected counts per sample of peaks of ``area`` at ``mass_u``, vectorised over peaks.

    Each peak is integrated over its samples from ``peak_tail_sigmas`` core sigmas before its
    centre to ``peak_tail_sigmas`` sigmas plus ``peak_tail_lengths_drawn`` tail lengths after
    it; the first edge's share is set to 0 and the last to 1, so every count of a peak lands
    on the axis (a peak reaching past either end of the axis loses only what lies beyond it).
    """
    out = np.zeros(n_samples, dtype=np.float64)
    mass = np.asarray(mass_u, dtype=np.float64)
    keep = (np.asarray(area) > 0) & (mass > 0)
    if not keep.any():
        return out
    mass, area = mass[keep], np.asarray(area, dtype=np.float64)[keep]
    centre = sample_of_mass(mass, p)
    sigma, tail = widths(mass, p)
    first = np.floor(centre - p.peak_tail_sigmas * sigma).astype(np.intp)
    last = np.ceil(centre + p.peak_tail_sigmas * sigma + p.peak_tail_lengths_drawn * tail)
    span = last.astype(np.intp) - first + 1  # samples per peak
    steps = np.arange(int(span.max()) + 1)
    edges = (first[:, None] + steps[None, :]) - 0.5 - centre[:, None]  # (P, W + 1)
    cdf = shape_cdf(edges, sigma[:, None], tail[:, None], p)
    cdf[:, 0] = 0.0
    np.copyto(cdf, 1.0, where=steps[None, :] >= span[:, None])
    weights = np.diff(cdf, axis=1) * area[:, None]
    index = first[:, None] + steps[None, :-1]
    inside = (index >= 0) & (index < n_samples)
    out += np.bincount(index[inside], weights=weights[inside], minlength=n_samples)
    return out
