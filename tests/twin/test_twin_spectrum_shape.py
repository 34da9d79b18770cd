"""The ToF peak shape: a Gaussian core with a tail to high mass, on the TofDAQ sample axis."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, special

from fibsims_twin.parameters import TofParameters
from fibsims_twin.peak_shape import (
    analytic_cdf,
    fwhm_samples,
    own_window_share,
    sample_of_mass,
    shape_cdf,
    spread_over_samples,
    window_share,
)
from fibsims_twin.spectrum import n_samples

P = TofParameters()
GAUSSIAN = dataclasses.replace(P, peak_tail_area_fraction=0.0)


def _moments(counts: np.ndarray, centre: float) -> tuple[float, float]:
    index = np.arange(counts.size)
    total = counts.sum()
    mean = float((counts * index).sum() / total)
    third = float((counts * (index - centre) ** 3).sum() / total)
    return mean, third


@pytest.mark.parametrize("mass_u", [6.0146, 58.9326, 131.9036])
def test_tail_conserves_the_area_and_skews_the_peak_to_high_mass(mass_u: float) -> None:
    counts = spread_over_samples(np.array([mass_u]), np.array([1000.0]), n_samples(P), P)
    assert counts.sum() == pytest.approx(1000.0, rel=1e-12)  # no counts lost
    centre = float(sample_of_mass(mass_u, P))
    mean, third = _moments(counts, centre)
    fwhm = float(fwhm_samples(mass_u, P))
    # the exponential part shifts the mean by f x its decay length, to later samples
    expected_shift = P.peak_tail_area_fraction * P.peak_tail_length_per_fwhm * fwhm
    assert mean - centre == pytest.approx(expected_shift, rel=0.05, abs=0.02)
    assert third > 0  # skewed to high mass
    # the mode stays at the calibrated mass: the highest sample is within one of the centre
    assert abs(int(np.argmax(counts)) - centre) <= 1.0
    plain = spread_over_samples(np.array([mass_u]), np.array([1000.0]), n_samples(P), GAUSSIAN)
    assert plain.sum() == pytest.approx(1000.0, rel=1e-12)
    assert _moments(plain, centre)[0] == pytest.approx(centre, abs=0.02)
    # more counts far above the centre than far below it
    span = slice(round(centre + 3 * fwhm), None), slice(None, round(centre - 3 * fwhm))
    assert counts[span[0]].sum() > 20 * counts[span[1]].sum()


def test_tabulated_shape_matches_its_analytic_distribution() -> None:
    z = np.linspace(-7.0, 40.0, 20_001)
    k = 1.0 / (2 * math.sqrt(2 * math.log(2)) * P.peak_tail_length_per_fwhm)
    exact = analytic_cdf(z, k, P.peak_tail_area_fraction)
    assert np.abs(shape_cdf(z, np.ones_like(z), P) - exact).max() < 1e-6


def test_analytic_shape_is_the_density_it_integrates() -> None:
    # the tail is an exponential of length t convolved with the core: integrate its density
    # numerically and compare with the closed form at a few points
    k, f = 0.5, 0.3

    def density(x: float) -> float:
        core = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        tail = k * math.exp(-k * x + k * k / 2) * special.ndtr(x - k)
        return (1 - f) * core + f * tail

    for z in (-2.0, 0.0, 1.0, 4.0):
        numeric, _ = integrate.quad(density, -40.0, z)
        assert float(analytic_cdf(np.array(z), k, f)) == pytest.approx(numeric, abs=1e-8)


def test_gaussian_core_alone_puts_0761_in_the_fwhm_window() -> None:
    assert own_window_share(58.9326, GAUSSIAN) == pytest.approx(math.erf(math.sqrt(math.log(2))))
    # the tail moves part of the area out of the window, to high mass
    assert own_window_share(58.9326, P) < own_window_share(58.9326, GAUSSIAN)


def test_window_share_of_a_neighbour_falls_with_its_distance_in_fwhm() -> None:
    mass = 58.9326
    half = mass / (2 * P.mass_resolving_power)
    near, far = window_share(np.array([mass + 0.01, mass + 0.2]), mass - half, mass + half, P)
    assert near > 0.6 and far < 1e-3
    # a lighter neighbour reaches the window through its high-mass tail, a heavier one not
    below, above = window_share(np.array([mass - 0.12, mass + 0.12]), mass - half, mass + half, P)
    assert below > above


def test_many_peaks_are_spread_independently_and_added() -> None:
    masses = np.array([7.0155, 23.0103, 58.9326, 91.0542, 131.9036])
    areas = np.array([10.0, 200.0, 3000.0, 40.0, 500.0])
    together = spread_over_samples(masses, areas, n_samples(P), P)
    apart = sum(
        spread_over_samples(np.array([m]), np.array([a]), n_samples(P), P)
        for m, a in zip(masses, areas, strict=True)
    )
    np.testing.assert_allclose(together, apart, rtol=1e-12, atol=1e-12)
    assert together.sum() == pytest.approx(areas.sum())
