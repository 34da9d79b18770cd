"""The secondary ions of the sum spectrum beyond the mapped elements, with their isotope patterns.

Why a catalogue: a positive-mode spectrum of an NMC cathode in epoxy is not the mapped atomic
ions on a flat floor. It carries molecular and cluster ions of the oxide (LiO+, Li2O+, NiO+,
MnO+, hydrides, dimers), fragments of the epoxy that fills the pores (the CnHm+ series and the
bisphenol-A ions), fragments of the PVDF binder (CF+, C2H2F+, ...) and alkali contamination
(Na+, K+). Each ion here names where its intensity comes from (its *source*), so its expected
area follows from what the raster sputters:

- ``("ion", M)``: the atomic ion M+ of the oxide, which the count model already computes per
  pixel (with its useful yield and matrix effect); a cluster of M has a fixed ratio to it, and
  M+ itself (ratio 1) shows in the spectrum whether it is mapped or not;
- ``("phase", P)``: the atoms the raster sputters from phase P (pore filler, CBD, NMC), times
  the ion's yield per sputtered atom of that phase (for the Na+ and K+ contamination: its
  atomic fraction there x the atomic ion yield of ``ion_yield_positive`` x the phase's matrix
  factor, :mod:`fibsims_twin.ion_yields`).

Isotope patterns come from :mod:`fibsims.instrument.isotopes` (AME2020 masses, IUPAC/CIAAW
abundances): the multinomial distribution of the isotopes over the atoms of the formula,
isotopologues below ``isotopologue_min_abundance`` of their ion left out (not renormalised: what
they would carry, a few 1e-4 of the ion at most, is not drawn).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from fibsims.instrument import Polarity
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES, Isotope
from fibsims_twin.ion_yields import ion_yield, matrix_factors
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters

FORMULA_TERM = re.compile(r"([A-Z][a-z]?)(\d*)")
ION_SOURCE = "ion"
PHASE_SOURCE = "phase"
PORE, CBD, NMC = "pore", "cbd", "nmc"
# The oxide's cations: their atomic ions show in every spectrum, mapped or not (a cluster's
# ratio is to the atomic ion of its first element)
OXIDE_METALS = ("Li", "Mn", "Co", "Ni")


@dataclass(frozen=True)
class IonSpecies:
    """One singly charged positive ion, where its intensity comes from and how much.

    ``coefficient``: ions (all isotopologues, before transmission and duty cycle) per unit of
    the source: per parent atomic ion for ``("ion", M)``, per sputtered atom of the phase for
    ``("phase", P)``.
    """

    formula: str
    source: tuple[str, str]
    coefficient: float


@dataclass(frozen=True, eq=False)
class CatalogueLines:
    """Every isotopologue of every species, as parallel arrays (one entry a spectral line)."""

    species: tuple[IonSpecies, ...]
    species_index: np.ndarray  # (L,) int: which species the line belongs to
    mass_u: np.ndarray  # (L,) float64: ion mass (atoms less one electron)
    abundance: np.ndarray  # (L,) float64: share of the species' ions in this line
    label: tuple[str, ...]  # (L,) e.g. "58Ni 16O+"
    # mapped-ion mass -> the lines in its window and their weight (spectrum_lines)
    window_routing: dict[float, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )

    def __len__(self) -> int:
        return self.mass_u.size

    @cached_property
    def coefficient(self) -> np.ndarray:
        """(L,) the species' coefficient x the line's isotopologue share."""
        per_species = np.array([ion.coefficient for ion in self.species], dtype=np.float64)
        return per_species[self.species_index] * self.abundance

    @cached_property
    def parent_mass_u(self) -> np.ndarray:
        """(L,) mean mass of the parent atomic ion for ``("ion", M)`` sources, NaN otherwise."""
        per_species = np.array(
            [
                mean_isotope_mass_u(ion.source[1]) if ion.source[0] == ION_SOURCE else np.nan
                for ion in self.species
            ]
        )
        return per_species[self.species_index]

    @cached_property
    def groups(self) -> dict[tuple[str, str], np.ndarray]:
        """Line indices per source."""
        keys = [ion.source for ion in self.species]
        return {
            key: np.flatnonzero(
                np.isin(self.species_index, [k for k, s in enumerate(keys) if s == key])
            )
            for key in dict.fromkeys(keys)
        }

    def source_of(self, line: int) -> tuple[str, str]:
        return self.species[self.species_index[line]].source

    def lines_of_atomic_ions(self, elements: frozenset[str]) -> np.ndarray:
        """(L,) bool: lines of the bare atomic ions of ``elements``."""
        chosen = [k for k, ion in enumerate(self.species) if ion.formula in elements]
        return np.isin(self.species_index, chosen)


def mean_isotope_mass_u(element: str) -> float:
    """Abundance-weighted mass of an element's isotopes (its atomic ions' mean mass)."""
    isotopes = _isotopes_of(element)
    return sum(i.mass_u * i.abundance for i in isotopes) / sum(i.abundance for i in isotopes)


def parse_formula(formula: str) -> tuple[tuple[str, int], ...]:
    """``"C7H7O"`` -> (("C", 7), ("H", 7), ("O", 1)); refuses elements without isotopes."""
    terms = FORMULA_TERM.findall(formula)
    if not terms or "".join(e + n for e, n in terms) != formula:
        raise ValueError(f"ion formula {formula!r} is not of the form e.g. 'Li2O' or 'C7H7'")
    counts: dict[str, int] = {}
    known = {iso.element for iso in ISOTOPES.values()}
    for element, number in terms:
        if element not in known:
            raise ValueError(f"ion formula {formula!r}: element {element} has no isotope table")
        counts[element] = counts.get(element, 0) + (int(number) if number else 1)
    return tuple(counts.items())


def _isotopes_of(element: str) -> list[Isotope]:
    return sorted((i for i in ISOTOPES.values() if i.element == element), key=lambda i: i.mass_u)


def _element_patterns(element: str, count: int) -> Iterator[tuple[str, float, float]]:
    """Each multiset of isotopes over ``count`` atoms: (label part, mass u, probability)."""
    isotopes = _isotopes_of(element)
    for combo in itertools.combinations_with_replacement(range(len(isotopes)), count):
        multiplicity = math.factorial(count)
        probability = 1.0
        parts, mass = [], 0.0
        for k in sorted(set(combo)):
            n = combo.count(k)
            multiplicity //= math.factorial(n)
            probability *= isotopes[k].abundance ** n
            mass += n * isotopes[k].mass_u
            parts.append(f"{isotopes[k].mass_number}{element}{n if n > 1 else ''}")
        yield " ".join(parts), mass, multiplicity * probability


@lru_cache(maxsize=256)
def isotopologues(formula: str, min_abundance: float) -> tuple[tuple[str, float, float], ...]:
    """(label, ion mass u, share) of each isotopologue of the singly charged positive ion,
    those below ``min_abundance`` left out, heaviest share first."""
    per_element = [
        [pattern for pattern in _element_patterns(element, count) if pattern[2] >= min_abundance]
        for element, count in parse_formula(formula)
    ]
    lines = []
    for parts in itertools.product(*per_element):
        share = math.prod(part[2] for part in parts)
        if share >= min_abundance:
            mass = sum(part[1] for part in parts) - ELECTRON_MASS_U
            lines.append((" ".join(part[0] for part in parts) + "+", mass, share))
    return tuple(sorted(lines, key=lambda line: -line[2]))


def parent_element(formula: str) -> str:
    """The metal an oxide cluster belongs to: the first element of its formula."""
    return parse_formula(formula)[0][0]


def species(p: TofParameters) -> tuple[IonSpecies, ...]:
    """The positive-mode species of the NMC / CBD / epoxy sample, from the parameters."""
    atomic = [IonSpecies(metal, (ION_SOURCE, metal), 1.0) for metal in OXIDE_METALS]
    oxide = [
        IonSpecies(formula, (ION_SOURCE, parent_element(formula)), ratio)
        for formula, ratio in p.oxide_cluster_ion_ratios.items()
    ]
    hydrides = [
        IonSpecies(f"{metal}H", (ION_SOURCE, metal), p.metal_hydride_ratio)
        for metal in OXIDE_METALS
        if metal != "Li"
    ]
    epoxy = [
        IonSpecies(formula, (PHASE_SOURCE, PORE), per_atom)
        for formula, per_atom in p.epoxy_fragment_ions_per_atom.items()
    ]
    binder = [
        IonSpecies(formula, (PHASE_SOURCE, CBD), per_atom)
        for formula, per_atom in p.binder_fragment_ions_per_atom.items()
    ]
    # the alkalis as every atomic ion: the ion yield of the oxide table times the matrix factor
    # of the phase they sit in (fibsims_twin.ion_yields)
    factors = matrix_factors(Polarity.POSITIVE, p)
    contamination = [
        IonSpecies(
            element,
            (PHASE_SOURCE, phase),
            fraction * ion_yield(element, Polarity.POSITIVE, p) * float(factors[label]),
        )
        for element, phase, label, fraction in (
            ("Na", NMC, Material.NMC811, p.sodium_atomic_fraction_nmc),
            ("K", NMC, Material.NMC811, p.potassium_atomic_fraction_nmc),
            ("Na", PORE, Material.PORE, p.sodium_atomic_fraction_epoxy),
            ("K", PORE, Material.PORE, p.potassium_atomic_fraction_epoxy),
        )
    ]
    return (*atomic, *oxide, *hydrides, *epoxy, *binder, *contamination)


def catalogue_lines(p: TofParameters) -> CatalogueLines:
    """All lines of :func:`species` (built once per parameter set; see :func:`cached_lines`)."""
    all_species = species(p)
    index, masses, shares, labels = [], [], [], []
    for k, ion in enumerate(all_species):
        for label, mass, share in isotopologues(ion.formula, p.isotopologue_min_abundance):
            index.append(k)
            masses.append(mass)
            shares.append(share)
            labels.append(label)
    return CatalogueLines(
        species=all_species,
        species_index=np.asarray(index, dtype=np.intp),
        mass_u=np.asarray(masses, dtype=np.float64),
        abundance=np.asarray(shares, dtype=np.float64),
        label=tuple(labels),
    )


_CACHE: dict[int, tuple[TofParameters, CatalogueLines]] = {}


def cached_lines(p: TofParameters) -> CatalogueLines:
    """:func:`catalogue_lines` kept per parameter object (frozen, but its tables are not
    hashable, so it is keyed by identity and checked)."""
    hit = _CACHE.get(id(p))
    if hit is None or hit[0] is not p:
        hit = _CACHE[id(p)] = (p, catalogue_lines(p))
    return hit[1]
