"""Per-element inputs of the sputter-yield formulas: what the milling rates are computed from.

Why a table of elements: the twin's phases are compounds (NMC811, carbon-binder, epoxy), and no
measured Xe+ yield exists for any of them (none found for layered oxides: see docs/physics.md,
Sources, ASSUMED). Their yields are estimated from the elements they hold with the
Yamamura-Tawara formula (:mod:`fibsims_twin.sputtering`), whose inputs per element are
tabulated here.

Sources: Y. Yamamura and H. Tawara, "Energy dependence of ion-induced sputtering yields from
monatomic solids at normal incidence", Atomic Data and Nuclear Data Tables 62, 149-253 (1996),
Table I (surface binding energy Us, fitted Q, W and s) for Mn, Co, Ni and C. Li, O, F and H are
not in Table I: the paper's recommendation for a target without a fit is Q = 1, s = 2.5,
W = 0.35 Us, with Us the heat of sublimation; for the gases O, F and H (no sublimation energy)
Us is the surface binding energy of SRIM's element table (J. F. Ziegler, M. D. Ziegler and
J. P. Biersack, SRIM, Nucl. Instrum. Methods B 268, 1818 (2010)), 2.0 eV. Masses: IUPAC
standard atomic weights.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ElementSputterData:
    """One target element in the Yamamura-Tawara formula."""

    atomic_number: int
    mass_u: float  # IUPAC standard atomic weight
    surface_binding_ev: float  # Us
    q: float  # Q, fitted yield factor
    w: float  # W, electronic-stopping correction factor
    s: float  # s, threshold exponent


# Default Q, s and the W / Us ratio Yamamura & Tawara (1996) recommend without a fit.
UNFITTED_Q = 1.0
UNFITTED_S = 2.5
UNFITTED_W_PER_US = 0.35
SRIM_GAS_SURFACE_BINDING_EV = 2.0  # SRIM element table (Ziegler et al. 2010): O, F, H


def _unfitted(atomic_number: int, mass_u: float, surface_binding_ev: float) -> ElementSputterData:
    return ElementSputterData(
        atomic_number,
        mass_u,
        surface_binding_ev,
        UNFITTED_Q,
        UNFITTED_W_PER_US * surface_binding_ev,
        UNFITTED_S,
    )


YAMAMURA_TAWARA_ELEMENTS: dict[str, ElementSputterData] = {
    "Mn": ElementSputterData(25, 54.938, 2.92, 0.95, 0.88, 2.5),  # Yamamura & Tawara Table I
    "Co": ElementSputterData(27, 58.933, 4.39, 1.02, 1.54, 2.5),  # Yamamura & Tawara Table I
    "Ni": ElementSputterData(28, 58.693, 4.44, 0.94, 1.33, 2.5),  # Yamamura & Tawara Table I
    "C": ElementSputterData(6, 12.011, 7.37, 1.70, 1.84, 2.5),  # Yamamura & Tawara Table I
    "Li": _unfitted(3, 6.94, 1.67),  # SRIM table; heat of sublimation 159 kJ/mol = 1.65 eV
    "O": _unfitted(8, 15.999, SRIM_GAS_SURFACE_BINDING_EV),
    "F": _unfitted(9, 18.998, SRIM_GAS_SURFACE_BINDING_EV),
    "H": _unfitted(1, 1.008, SRIM_GAS_SURFACE_BINDING_EV),
}
