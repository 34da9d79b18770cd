"""ADC detection: several ions per extraction are recorded, up to the digitiser's range."""

from __future__ import annotations

import numpy as np
import pytest

from fibsims_twin.digitiser import clip_free_mean, clipped_moments, digitised_counts, recorded_mean
from fibsims_twin.parameters import NoiseParameters, TofParameters

NOISE = NoiseParameters()


def test_the_range_is_the_adc_levels_over_the_single_ion_pulse() -> None:
    p = TofParameters()
    assert p.max_ions_per_extraction == int(255 / p.single_ion_pulse_height_adc_levels) == 63


def test_clipped_moments_match_a_monte_carlo_of_the_clipped_poisson() -> None:
    rng = np.random.default_rng(1)
    for lam, k in ((0.3, 1), (5.0, 8), (40.0, 63), (80.0, 63)):
        draws = np.minimum(rng.poisson(lam, 400_000), k)
        mean, variance = clipped_moments(np.array([lam]), k)
        assert mean[0] == pytest.approx(draws.mean(), rel=3e-3)
        assert variance[0] == pytest.approx(draws.var(), rel=2e-2, abs=1e-3)
    # K = 1 is the counting TDC: at most one ion, with chance 1 - exp(-lambda)
    mean, _ = clipped_moments(np.array([0.7]), 1)
    assert mean[0] == pytest.approx(-np.expm1(-0.7))


def test_several_ions_per_extraction_are_recorded_below_the_range() -> None:
    rng = np.random.default_rng(2)
    n, window, k = 100, 0.699, 63  # the tailed peak's window share
    ions = np.full(20_000, 5.0 * n / window, dtype=np.float32)  # 5 ions in the window each
    counts = digitised_counts(rng, ions, n, window, k, NOISE)
    assert counts.mean() == pytest.approx(5.0 * n, rel=0.01)  # not capped at one per extraction
    assert counts.var() == pytest.approx(5.0 * n, rel=0.05)  # Poisson: nothing clipped
    assert clip_free_mean(k, NOISE.clip_negligible_loss) > 5.0


def test_counts_saturate_at_the_range_where_the_parameters_say() -> None:
    rng = np.random.default_rng(3)
    n, window, k = 20, 1.0, 63
    lam = np.array([10.0, 50.0, 63.0, 80.0, 400.0], dtype=np.float32)
    ions = np.repeat(lam * n, 20_000).astype(np.float32)
    counts = digitised_counts(rng, ions, n, window, k, NOISE).reshape(len(lam), -1)
    expected = recorded_mean(lam * n, n, window, k, NOISE)
    np.testing.assert_allclose(counts.mean(axis=1), expected, rtol=5e-3)
    per_extraction = expected / (lam * n)
    assert per_extraction[0] == pytest.approx(1.0, abs=1e-6)  # far below the range: linear
    assert 0.9 < per_extraction[2] < 0.97  # at lambda = K the clipping costs a few percent
    assert counts.max() <= n * k
    assert counts[-1].mean() == pytest.approx(n * k, rel=1e-3)  # full on every extraction


def test_a_pixel_count_is_a_function_of_its_mean_and_its_place_in_the_stream() -> None:
    ions = np.linspace(0, 8000, 4096, dtype=np.float32).reshape(64, 64)
    a = digitised_counts(np.random.default_rng(5), ions, 100, 0.699, 63, NOISE)
    b = digitised_counts(np.random.default_rng(5), ions, 100, 0.699, 63, NOISE)
    np.testing.assert_array_equal(a, b)
