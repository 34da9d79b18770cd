"""Isotope masses and natural abundances for the peaks a FIB-SIMS run maps.

Masses (u) are atomic masses from the AME2020 evaluation; abundances are the IUPAC/CIAAW
representative isotopic compositions, as tabulated by NIST ("Atomic Weights and Isotopic
Compositions", physics.nist.gov/comp). Both the recipe check of peak labels and the twin's
count model read this one table, and the twin's sum spectrum builds the isotope patterns of
its molecular ions from it (so every element of such an ion lists all its stable isotopes:
H, C, O, K with their minor ones, and the nine stable Xe isotopes of the primary beam).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ELECTRON_MASS_U = 0.000548579909  # CODATA 2018


@dataclass(frozen=True)
class Isotope:
    mass_number: int
    element: str
    mass_u: float
    abundance: float  # natural atom fraction, 0..1


ISOTOPES: dict[str, Isotope] = {
    f"{iso.mass_number}{iso.element}": iso
    for iso in (
        Isotope(1, "H", 1.00782503, 0.999885),
        Isotope(2, "H", 2.01410178, 0.000115),
        Isotope(6, "Li", 6.0151229, 0.0759),
        Isotope(7, "Li", 7.0160034, 0.9241),
        Isotope(12, "C", 12.0, 0.9893),
        Isotope(13, "C", 13.0033548, 0.0107),
        Isotope(16, "O", 15.9949146, 0.99757),
        Isotope(17, "O", 16.9991318, 0.00038),
        Isotope(18, "O", 17.9991596, 0.00205),
        Isotope(19, "F", 18.9984032, 1.0),
        Isotope(23, "Na", 22.9897693, 1.0),
        Isotope(39, "K", 38.9637065, 0.932581),
        Isotope(40, "K", 39.9639982, 0.000117),
        Isotope(41, "K", 40.9618253, 0.067302),
        Isotope(55, "Mn", 54.9380439, 1.0),
        Isotope(58, "Ni", 57.9353423, 0.680769),
        Isotope(59, "Co", 58.9331937, 1.0),
        Isotope(60, "Ni", 59.9307856, 0.262231),
        Isotope(61, "Ni", 60.9310552, 0.011399),
        Isotope(62, "Ni", 61.9283446, 0.036345),
        Isotope(64, "Ni", 63.9279660, 0.009256),
        Isotope(124, "Xe", 123.9058852, 0.000952),
        Isotope(126, "Xe", 125.9042983, 0.000890),
        Isotope(128, "Xe", 127.9035310, 0.019102),
        Isotope(129, "Xe", 128.9047809, 0.264006),
        Isotope(130, "Xe", 129.9035093, 0.040710),
        Isotope(131, "Xe", 130.9050841, 0.212324),
        Isotope(132, "Xe", 131.9041551, 0.269086),
        Isotope(134, "Xe", 133.9053947, 0.104357),
        Isotope(136, "Xe", 135.9072145, 0.088573),
    )
}

PEAK_LABEL = re.compile(r"^(?P<mass>\d{1,3})(?P<element>[A-Z][a-z]?)(?P<charge>[+-])$")


@dataclass(frozen=True)
class PeakIon:
    """A singly charged atomic ion named by a label such as ``7Li+``."""

    label: str
    isotope: Isotope
    charge: int  # +1 or -1

    @property
    def mass_u(self) -> float:
        """Ion mass: the atom less (positive) or plus (negative) one electron."""
        return self.isotope.mass_u - self.charge * ELECTRON_MASS_U


def parse_peak(label: str) -> PeakIon:
    """Parse ``7Li+`` into its isotope; ``ValueError`` names the problem and what is known."""
    match = PEAK_LABEL.match(label)
    if match is None:
        raise ValueError(
            f"peak {label!r} is not of the form <mass number><element><charge>, e.g. '7Li+'"
        )
    key = f"{match['mass']}{match['element']}"
    if key not in ISOTOPES:
        known = ", ".join(sorted(ISOTOPES, key=lambda k: ISOTOPES[k].mass_u))
        raise ValueError(f"peak {label!r}: isotope {key} is not in the table; known: {known}")
    return PeakIon(label=label, isotope=ISOTOPES[key], charge=1 if match["charge"] == "+" else -1)
