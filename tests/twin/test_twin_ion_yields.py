"""Secondary-ion yields with their matrix effect, and the orthogonal extraction's duty cycle."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from fibsims.instrument import Polarity
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.ion_yields import duty_cycle, lithiation_factor, matrix_factors, useful_yield
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters

POSITIVE = Polarity.POSITIVE


def ion_mass(isotope: str) -> float:
    return ISOTOPES[isotope].mass_u - ELECTRON_MASS_U


def test_duty_cycle_grows_as_the_square_root_of_the_mass_and_is_capped_at_one() -> None:
    p = TofParameters()
    li7, ni58, xe132 = (duty_cycle(ion_mass(i), p) for i in ("7Li", "58Ni", "132Xe"))
    assert ni58 / li7 == pytest.approx(math.sqrt(ion_mass("58Ni") / ion_mass("7Li")), rel=1e-12)
    assert xe132 / ni58 == pytest.approx(math.sqrt(ion_mass("132Xe") / ion_mass("58Ni")))
    assert duty_cycle(p.duty_cycle_reference_mass_u, p) == pytest.approx(p.duty_cycle_reference)
    wide = dataclasses.replace(p, duty_cycle_reference=0.5)
    assert duty_cycle(4 * p.duty_cycle_reference_mass_u, wide) == 1.0  # 0.5 x 2, capped
    assert duty_cycle(9 * p.duty_cycle_reference_mass_u, wide) == 1.0


def test_useful_yields_from_the_oxide_land_in_the_published_ranges() -> None:
    """Alkalis from oxides ~1e-3..1e-1, transition metals 1e-4..1e-3 ions detected per atom."""
    p = TofParameters()
    assert 1e-3 <= useful_yield("Li", ion_mass("7Li"), POSITIVE, p) <= 1e-1
    for element, isotope in (("Mn", "55Mn"), ("Ni", "58Ni"), ("Co", "59Co")):
        assert 1e-4 <= useful_yield(element, ion_mass(isotope), POSITIVE, p) <= 1e-3
    # Li ionises far more readily than the transition metals (5.39 eV against 7.4-7.9 eV)
    assert p.ion_yield_positive["Li"] > 5 * max(p.ion_yield_positive[e] for e in ("Ni", "Mn"))


def test_the_oxide_raises_positive_yields_over_the_binder_and_the_epoxy() -> None:
    p = TofParameters()
    positive = matrix_factors(POSITIVE, p)
    assert positive[Material.NMC811] == 1.0
    assert positive[Material.CBD] < positive[Material.PORE] < positive[Material.NMC811]
    assert positive[Material.VACUUM] == 0.0
    negative = matrix_factors(Polarity.NEGATIVE, p)
    np.testing.assert_array_equal(negative[:3], 1.0)  # no matrix factor for negative ions


def test_li_yield_rises_with_lithiation_as_the_named_power_law() -> None:
    p = TofParameters()
    x = np.array([0.2, 0.5, 0.7, 1.0], dtype=np.float32)
    linear = lithiation_factor(x, p)
    np.testing.assert_allclose(linear, x / p.li_yield_reference_lithiation, rtol=1e-6)
    assert np.all(np.diff(linear) > 0)
    steep = dataclasses.replace(p, li_yield_lithiation_exponent=2.0)
    np.testing.assert_allclose(lithiation_factor(x, steep), x**2, rtol=1e-6)
    assert lithiation_factor(np.float32(p.li_yield_reference_lithiation), p) == 1.0
