"""The shape of a ToF peak on the TofDAQ sample axis: a Gaussian core with a high-mass tail.

Why a tail: ions leave the sample with a spread of initial energies, and some form or fragment
after extraction has begun; both make ions arrive late, never early, so a real TOF peak rises
sharply and decays slowly to long flight time (high mass). The twin draws it as a Gaussian core
(FWHM m / R, i.e. p1 sqrt(m) / (2R) samples: docs/physics.md's resolving power and TofDAQ's mode-0
calibration i = p1 sqrt(m) + p2) plus a share ``peak_tail_area_fraction`` of the area in an
exponentially modified Gaussian (the core convolved with a one-sided exponential of decay length
``peak_tail_length_per_fwhm`` x FWHM: a relative energy deficit gives a delay proportional to
the flight time, as the width is). Both parts are normalised, so the shape's integral is 1.

Its cumulative distribution is analytic (x the distance from the core centre, s the core's
sigma, t the decay length, f the tail's share):

    F(x) = Phi(x / s) - f exp(-x / t + s^2 / (2 t^2)) Phi(x / s - s / t)

evaluated in log space (``log_ndtr``) so that a tail much shorter than the core never overflows.
Integrating it over each sample's edges spreads a peak's area over its samples without losing
any, however narrow the peak is.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from fibsims_twin.parameters import GAUSSIAN_FWHM_PER_SIGMA, TofParameters

CDF_TABLE_STEP_SIGMA = 0.002  # numerical: grid of the tabulated shape (see shape_cdf)


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


def analytic_cdf(z: np.ndarray, sigma_per_tail: float, tail_fraction: float) -> np.ndarray:
    """The shape's CDF at ``z`` core sigmas from its centre (formula in the module docstring,
    with x / t = z s / t)."""
    from scipy import special  # here, not at import: the cost model imports this module

    k = sigma_per_tail
    log_tail = -z * k + 0.5 * k * k + special.log_ndtr(z - k)
    return special.ndtr(z) - tail_fraction * np.exp(log_tail)


@lru_cache(maxsize=8)
def _cdf_table(
    sigma_per_tail: float, tail_fraction: float, first_z: float, last_z: float
) -> tuple[np.ndarray, np.ndarray]:
    """The CDF on a grid of CDF_TABLE_STEP_SIGMA over [first_z, last_z] (read-only)."""
    z = first_z + CDF_TABLE_STEP_SIGMA * np.arange(
        math.ceil((last_z - first_z) / CDF_TABLE_STEP_SIGMA) + 1
    )
    table = analytic_cdf(z, sigma_per_tail, tail_fraction)
    table[0], table[-1] = 0.0, 1.0  # the shape starts and ends inside the table
    z.flags.writeable = table.flags.writeable = False
    return z, table


def shape_cdf(offset_samples: np.ndarray, sigma: np.ndarray, p: TofParameters) -> np.ndarray:
    """Share of a peak's area before ``offset_samples`` from its core centre (broadcasting).

    In core sigmas z the shape is the same at every mass (the tail length is a fixed multiple
    of the FWHM), so the analytic CDF is tabulated once and interpolated: ~10x cheaper than
    ``ndtr`` and ``log_ndtr`` per point, and exact to ~1e-7 (linear interpolation of a smooth
    function on a 0.002-sigma grid). 0 before the table, 1 after it (the table spans the
    drawn extent of a peak with a sigma to spare on each side).
    """
    sigma_per_tail = 1.0 / (GAUSSIAN_FWHM_PER_SIGMA * p.peak_tail_length_per_fwhm)
    z_grid, table = _cdf_table(
        sigma_per_tail,
        p.peak_tail_area_fraction,
        -p.peak_tail_sigmas - 1.0,
        p.peak_tail_sigmas + p.peak_tail_lengths_drawn / sigma_per_tail + 1.0,
    )
    # linear interpolation on the uniform grid by direct indexing (np.interp searches)
    position = (np.asarray(offset_samples / sigma, dtype=np.float64) - z_grid[0]) / (
        CDF_TABLE_STEP_SIGMA
    )
    np.clip(position, 0.0, z_grid.size - 1.0, out=position)
    below = position.astype(np.intp)
    np.minimum(below, z_grid.size - 2, out=below)
    position -= below
    lower = table.take(below)
    return lower + (table.take(below + 1) - lower) * position


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
    sigma, _ = widths(mass, p)
    lo = sample_of_mass(lower_u, p) - centre
    hi = sample_of_mass(upper_u, p) - centre
    return shape_cdf(hi, sigma, p) - shape_cdf(lo, sigma, p)


def own_window_share(mass_u: float, p: TofParameters) -> float:
    """Share of a peak inside its own integration window m +- FWHM/2 (FWHM = m / R): 0.761 for
    the bare Gaussian core, less with the tail (0.699 at the default tail)."""
    half = mass_u / (2.0 * p.mass_resolving_power)
    return float(window_share(np.array([mass_u]), mass_u - half, mass_u + half, p)[0])


@lru_cache(maxsize=8)
def _window_fraction(resolving_power: float, tail_fraction: float, tail_per_fwhm: float) -> float:
    half = 1.0 / (2.0 * resolving_power)
    z = 2.0 * resolving_power * GAUSSIAN_FWHM_PER_SIGMA * (np.sqrt([1.0 - half, 1.0 + half]) - 1.0)
    cdf = analytic_cdf(z, 1.0 / (GAUSSIAN_FWHM_PER_SIGMA * tail_per_fwhm), tail_fraction)
    return float(cdf[1] - cdf[0])


def peak_window_fraction(p: TofParameters) -> float:
    """The share w of every peak inside its integration window m +- FWHM/2: what a mapped
    peak's window records of it, and what a raster reports as ``peak_window_fraction``
    (0.699 at the default tail; erf(sqrt(ln 2)) = 0.761 without one).

    Why one number: the window's edges sit p1 sqrt(m) (sqrt(1 +- 1/(2R)) - 1) samples from the
    peak's centre and the core sigma is p1 sqrt(m) / (2R) / 2.355, so in core sigmas the window
    (and the tail, a fixed multiple of the FWHM) is the same at every mass; it depends only on
    R and the tail's share and length. Evaluated from the analytic CDF (:func:`own_window_share`
    reads the tabulated one, equal to ~1e-6)."""
    return _window_fraction(
        p.mass_resolving_power, p.peak_tail_area_fraction, p.peak_tail_length_per_fwhm
    )


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
    # all peaks' sample edges in one flat array (no padding to the widest peak)
    edges_per_peak = span + 1
    start = np.cumsum(edges_per_peak) - edges_per_peak
    owner = np.repeat(np.arange(mass.size), edges_per_peak)
    step = np.arange(owner.size) - start[owner]  # edge number within its peak
    cdf = shape_cdf(first[owner] + step - 0.5 - centre[owner], sigma[owner], p)
    cdf[start] = 0.0
    cdf[start + span] = 1.0
    within = step[1:] > 0  # a difference between two edges of one peak
    owner, step = owner[1:][within], step[1:][within]
    weights = np.diff(cdf)[within] * area[owner]
    index = first[owner] + step - 1
    inside = (index >= 0) & (index < n_samples)
    out += np.bincount(index[inside], weights=weights[inside], minlength=n_samples)
    return out
