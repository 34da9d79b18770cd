"""The ion catalogue: isotope tables, isotopologue masses and shares, the species a cathode in
epoxy gives."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.ion_catalogue import (
    CBD,
    NMC,
    PHASE_SOURCE,
    PORE,
    cached_lines,
    isotopologues,
    parse_formula,
    species,
)
from fibsims_twin.parameters import TofParameters

XE_STABLE_MASS_NUMBERS = {124, 126, 128, 129, 130, 131, 132, 134, 136}


def test_xe_table_holds_the_nine_stable_isotopes_summing_to_one() -> None:
    xe = [iso for iso in ISOTOPES.values() if iso.element == "Xe"]
    assert {iso.mass_number for iso in xe} == XE_STABLE_MASS_NUMBERS
    # CIAAW abundances are given to 6 decimals: their sum is 1 within that rounding
    assert sum(iso.abundance for iso in xe) == pytest.approx(1.0, abs=5e-6)
    assert ISOTOPES["124Xe"].mass_u == pytest.approx(123.90589, abs=1e-5)  # AME2020
    assert ISOTOPES["130Xe"].abundance == pytest.approx(0.040710)


def test_every_element_of_the_table_has_abundances_summing_to_one() -> None:
    totals: dict[str, float] = defaultdict(float)
    for iso in ISOTOPES.values():
        totals[iso.element] += iso.abundance
    for element, total in totals.items():
        assert total == pytest.approx(1.0, abs=5e-5), element


@pytest.mark.parametrize(
    ("formula", "label", "mass_u"),
    [
        # sums of AME2020 atomic masses less one electron (0.000549 u)
        ("LiO", "7Li 16O+", 7.0160034 + 15.9949146 - ELECTRON_MASS_U),
        ("LiO", "6Li 16O+", 6.0151229 + 15.9949146 - ELECTRON_MASS_U),
        ("Li2O", "7Li2 16O+", 2 * 7.0160034 + 15.9949146 - ELECTRON_MASS_U),
        ("NiO", "60Ni 16O+", 59.9307856 + 15.9949146 - ELECTRON_MASS_U),
        ("NiH", "58Ni 1H+", 57.9353423 + 1.00782503 - ELECTRON_MASS_U),
        ("Ni2", "58Ni 60Ni+", 57.9353423 + 59.9307856 - ELECTRON_MASS_U),
        ("MnO", "55Mn 16O+", 54.9380439 + 15.9949146 - ELECTRON_MASS_U),
        ("C7H7", "12C7 1H7+", 7 * 12.0 + 7 * 1.00782503 - ELECTRON_MASS_U),
        ("C7H7", "12C6 13C 1H7+", 6 * 12.0 + 13.0033548 + 7 * 1.00782503 - ELECTRON_MASS_U),
        ("C2H2F", "12C2 1H2 19F+", 24.0 + 2 * 1.00782503 + 18.9984032 - ELECTRON_MASS_U),
        ("K", "41K+", 40.9618253 - ELECTRON_MASS_U),
    ],
)
def test_isotopologue_mass_is_the_sum_of_its_isotopes_less_an_electron(
    formula: str, label: str, mass_u: float
) -> None:
    lines = {line[0]: line for line in isotopologues(formula, 1e-4)}
    assert lines[label][1] == pytest.approx(mass_u, abs=1e-6)


def test_isotopologue_shares_follow_the_multinomial_of_the_abundances() -> None:
    lines = {label: share for label, _, share in isotopologues("C7H7", 1e-4)}
    c12, c13, h1 = (ISOTOPES[k].abundance for k in ("12C", "13C", "1H"))
    assert lines["12C7 1H7+"] == pytest.approx(c12**7 * h1**7)
    assert lines["12C6 13C 1H7+"] == pytest.approx(7 * c12**6 * c13 * h1**7)
    assert lines["12C5 13C2 1H7+"] == pytest.approx(21 * c12**5 * c13**2 * h1**7)
    li = {label: share for label, _, share in isotopologues("Li2", 1e-4)}
    l6, l7 = ISOTOPES["6Li"].abundance, ISOTOPES["7Li"].abundance
    assert (li["7Li2+"], li["6Li 7Li+"], li["6Li2+"]) == pytest.approx((l7**2, 2 * l6 * l7, l6**2))


def test_every_species_keeps_nearly_all_of_its_isotope_pattern() -> None:
    p = TofParameters()
    for ion in species(p):
        kept = sum(
            share for _, _, share in isotopologues(ion.formula, p.isotopologue_min_abundance)
        )
        assert 0.995 < kept <= 1.0 + 1e-12, ion.formula


def test_nickel_oxide_shows_the_five_nickel_isotopes() -> None:
    labels = {label for label, _, _ in isotopologues("NiO", 1e-4)}
    assert {f"{a}Ni 16O+" for a in (58, 60, 61, 62, 64)} <= labels
    assert "58Ni 18O+" in labels  # 18O at 0.2 % x 58Ni at 68 %


def test_species_come_from_the_phases_that_hold_them() -> None:
    p = TofParameters()
    by_formula = defaultdict(set)
    for ion in species(p):
        by_formula[ion.formula].add(ion.source)
    assert by_formula["LiO"] == {("ion", "Li")} and by_formula["NiO"] == {("ion", "Ni")}
    assert by_formula["C7H7"] == {(PHASE_SOURCE, PORE)}  # epoxy: the aromatic bisphenol A
    assert by_formula["C2H2F"] == {(PHASE_SOURCE, CBD)}  # PVDF binder
    assert by_formula["Na"] == {(PHASE_SOURCE, NMC), (PHASE_SOURCE, PORE)}
    assert by_formula["K"] == {(PHASE_SOURCE, NMC), (PHASE_SOURCE, PORE)}


def test_alkali_contamination_uses_the_atomic_ion_yields_with_the_matrix_factor() -> None:
    # one Na yield for the whole twin: ion_yield_positive's, times the phase's matrix factor
    p = TofParameters()
    coefficient = {(ion.formula, ion.source[1]): ion.coefficient for ion in species(p)}
    na, k = p.ion_yield_positive["Na"], p.ion_yield_positive["K"]
    assert coefficient["Na", NMC] == pytest.approx(p.sodium_atomic_fraction_nmc * na)
    assert coefficient["K", NMC] == pytest.approx(p.potassium_atomic_fraction_nmc * k)
    epoxy = p.matrix_factor_positive_epoxy
    assert coefficient["Na", PORE] == pytest.approx(p.sodium_atomic_fraction_epoxy * na * epoxy)
    assert coefficient["K", PORE] == pytest.approx(p.potassium_atomic_fraction_epoxy * k * epoxy)
    assert not hasattr(p, "sodium_useful_yield")


def test_catalogue_spans_hundreds_of_lines_inside_the_mass_range() -> None:
    p = TofParameters()
    lines = cached_lines(p)
    assert len(lines) > 100
    assert lines.mass_u.min() > 1.0 and lines.mass_u.max() < p.max_mass_u
    assert cached_lines(p) is lines  # built once per parameter set


@pytest.mark.parametrize("formula", ["Li2o", "Xx2", "", "2Li"])
def test_malformed_formula_is_refused(formula: str) -> None:
    with pytest.raises(ValueError, match="formula"):
        parse_formula(formula)


def test_isotopologue_shares_are_probabilities() -> None:
    for formula in ("C9H11O", "Ni2", "Li2OH"):
        shares = [share for _, _, share in isotopologues(formula, 1e-4)]
        assert all(1e-4 <= s <= 1 for s in shares)
        assert math.fsum(shares) <= 1.0 + 1e-12
