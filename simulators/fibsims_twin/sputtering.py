"""How many atoms a Xe+ ion sputters from each phase, and how that depends on its incidence.

Why a module: the milling time of a pattern, the depth every scan erodes, the SIMS counts and the
curtains all rest on the sputter yield, and a FIB-SIMS physicist expects it to follow the
standard semi-empirical models, not a constant:

- **Normal incidence**, per element: Yamamura & Tawara, At. Data Nucl. Data Tables 62, 149
  (1996), eq. 15 (Thomas-Fermi nuclear stopping, Lindhard electronic stopping, threshold
  energy), with the element inputs of :mod:`fibsims_twin.parameters.sputtering`. A compound
  (NMC811, CBD, epoxy) takes the atomic-fraction mean of its elements' yields (ASSUMED linear
  mixing: at steady state the sputtered flux carries the bulk stoichiometry).
- **Angle of incidence** theta (from the surface normal): Yamamura, Itikawa & Itoh, IPPJ-AM-26
  (1983), for heavy ions,
      Y(theta) / Y(0) = cos(theta)^-f exp(f cos(theta_opt) (1 - 1 / cos(theta))),
  rising from normal incidence to a maximum at theta_opt and falling to zero at grazing
  incidence. f = f_s (1 + 2.5 (1 - zeta) / zeta), zeta = 1 - sqrt(E_th / E), Sigmund's
  f_s = sqrt(Us) (0.94 - 1.33e-3 M2 / M1); theta_opt = 90 deg - 286 psi^0.45 deg with
  psi = (a / R0)^1.5 sqrt(Z1 Z2 / (sqrt(Z1^2/3 + Z2^2/3) E)), a the Lindhard screening length
  in Angstrom, R0 = n^-1/3 the mean atomic spacing, E in eV. A compound enters as one mean
  target (atomic-fraction means of Z2, M2 and Us): for NMC811 at 30 keV f = 1.65 and theta_opt
  = 78 deg, so Y(60 deg) = 2.2 Y(0) and the maximum, at 78 deg, 3.7 Y(0) (heavy ions peak at
  60-80 deg, docs/physics.md).

The numbers in the formulas are the papers' fitted constants, named below with their equation;
everything that describes the ion or the target is a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fibsims_twin.materials import Material, compositions
from fibsims_twin.parameters import (
    AMPERE_PER_NANOAMPERE,
    ELEMENTARY_CHARGE_C,
    RAD_PER_DEG,
    UM3_PER_CM3,
    ColumnParameters,
    MaterialParameters,
    TwinParameters,
)
from fibsims_twin.parameters.sputtering import ElementSputterData

if TYPE_CHECKING:  # numpy is imported by the per-label table: the cost model imports this
    import numpy as np

EV_PER_KEV = 1e3
CM_PER_ANGSTROM = 1e-8
DEG_RIGHT_ANGLE = 90.0
TWO_THIRDS = 2.0 / 3.0

# Yamamura & Tawara (1996), eq. 15 and its auxiliary fits
YT_PREFACTOR = 0.042  # Y = 0.042 Q alpha* Sn / Us / (1 + Gamma ke eps^0.3) (1 - sqrt(Eth/E))^s
YT_REDUCED_ENERGY_EV = 0.03255  # eps = 0.03255 / (Z1 Z2 sqrt(Z1^2/3 + Z2^2/3)) M2/(M1+M2) E
YT_STOPPING_EV_ANGSTROM2 = 84.78  # Sn = 84.78 Z1 Z2 / sqrt(Z1^2/3 + Z2^2/3) M1/(M1+M2) sn(eps)
TF_A, TF_B, TF_C, TF_D, TF_E = 3.441, 2.718, 6.355, 6.882, 1.708  # Thomas-Fermi sn(eps)
LINDHARD_KE = 0.079  # Lindhard electronic stopping coefficient
YT_GAMMA_MASS_U = 7.0  # Gamma = W / (1 + (M1 / 7)^3)
YT_ALPHA_LIGHT = (0.249, 0.56, 0.0035, 1.5)  # alpha* for M1 <= M2
YT_ALPHA_HEAVY = (0.0875, -0.15, 0.165)  # alpha* for M1 >= M2
YT_THRESHOLD_LIGHT = 5.7  # Eth = Us (1 + 5.7 M1/M2) / gamma for M1 <= M2
YT_THRESHOLD_HEAVY = 6.7  # Eth = 6.7 Us / gamma for M1 >= M2
YT_STOPPING_EXPONENT = 0.3
# Yamamura, Itikawa & Itoh (1983), heavy ions
SIGMUND_FS = (0.94, 1.33e-3)  # f_s = sqrt(Us) (0.94 - 1.33e-3 M2/M1)
YII_F_THRESHOLD = 2.5  # f = f_s (1 + 2.5 (1 - zeta) / zeta)
YII_THRESHOLD = (1.5, 1.38, 0.834, 0.18)  # Eth = 1.5 Us/gamma (1 + 1.38 (M1/M2)^h)^2
YII_THETA_OPT = (286.0, 0.45)  # theta_opt = 90 - 286 psi^0.45 (deg)
LINDHARD_SCREENING_ANGSTROM = 0.4685  # a = 0.4685 / sqrt(Z1^2/3 + Z2^2/3)
EXP_UNDERFLOW = -745.0  # numerical: exp of less is 0 in float64


@dataclass(frozen=True)
class Ion:
    """The primary ion and its energy."""

    atomic_number: int
    mass_u: float
    energy_ev: float


def _gamma(m1: float, m2: float) -> float:
    """Maximum share of its energy a projectile hands a target atom in one collision."""
    return 4 * m1 * m2 / (m1 + m2) ** 2


def yamamura_tawara_yield(ion: Ion, target: ElementSputterData) -> float:
    """Sputter yield (atoms/ion) of a monatomic target at normal incidence (1996, eq. 15)."""
    z1, m1, e = ion.atomic_number, ion.mass_u, ion.energy_ev
    z2, m2 = target.atomic_number, target.mass_u
    zsum = z1**TWO_THIRDS + z2**TWO_THIRDS
    eps = YT_REDUCED_ENERGY_EV / (z1 * z2 * math.sqrt(zsum)) * m2 / (m1 + m2) * e
    root = math.sqrt(eps)
    sn = TF_A * root * math.log(eps + TF_B) / (1 + TF_C * root + eps * (TF_D * root - TF_E))
    stopping = YT_STOPPING_EV_ANGSTROM2 * z1 * z2 / math.sqrt(zsum) * m1 / (m1 + m2) * sn
    ke = (
        LINDHARD_KE * (m1 + m2) ** 1.5 / (m1**1.5 * m2**0.5) * z1**TWO_THIRDS * z2**0.5 / zsum**0.75
    )
    gamma = _gamma(m1, m2)
    if m1 <= m2:
        a0, p0, a1, p1 = YT_ALPHA_LIGHT
        alpha = a0 * (m2 / m1) ** p0 + a1 * (m2 / m1) ** p1
        threshold_ev = target.surface_binding_ev * (1 + YT_THRESHOLD_LIGHT * m1 / m2) / gamma
    else:
        a0, p0, a1 = YT_ALPHA_HEAVY
        alpha = a0 * (m2 / m1) ** p0 + a1 * (m2 / m1)
        threshold_ev = YT_THRESHOLD_HEAVY * target.surface_binding_ev / gamma
    if e <= threshold_ev:
        return 0.0
    electronic = target.w / (1 + (m1 / YT_GAMMA_MASS_U) ** 3) * ke * eps**YT_STOPPING_EXPONENT
    return (
        YT_PREFACTOR
        * target.q
        * alpha
        * stopping
        / target.surface_binding_ev
        / (1 + electronic)
        * (1 - math.sqrt(threshold_ev / e)) ** target.s
    )


def compound_yield_atoms_per_ion(
    ion: Ion, fractions: Mapping[str, float], elements: Mapping[str, ElementSputterData]
) -> float:
    """Atomic-fraction mean of the elements' yields (ASSUMED linear mixing)."""
    total = sum(fractions.values())
    return sum(n / total * yamamura_tawara_yield(ion, elements[e]) for e, n in fractions.items())


def volume_per_dose_from_yield(yield_atoms_per_ion: float, atoms_per_cm3: float) -> float:
    """um^3/nC from atoms/ion: Y / n x ions per nC (inverse of materials' conversion)."""
    ions_per_nc = AMPERE_PER_NANOAMPERE / ELEMENTARY_CHARGE_C
    return yield_atoms_per_ion / atoms_per_cm3 * UM3_PER_CM3 * ions_per_nc


@dataclass(frozen=True)
class AngularYield:
    """Yamamura's angular law for one phase: Y(theta) / Y(0) from f and theta_opt."""

    f: float
    theta_opt_deg: float

    def ratio(self, incidence_deg: float) -> float:
        """Y(theta) / Y(0); 0 at (and beyond) grazing incidence."""
        cos = math.cos(abs(incidence_deg) * RAD_PER_DEG)
        if cos <= 0.0:
            return 0.0
        secant = 1.0 / cos
        sigma = self.f * math.cos(self.theta_opt_deg * RAD_PER_DEG)
        exponent = self.f * math.log(secant) + sigma * (1.0 - secant)
        return math.exp(exponent) if exponent > EXP_UNDERFLOW else 0.0


def yamamura_angular(
    ion: Ion,
    fractions: Mapping[str, float],
    elements: Mapping[str, ElementSputterData],
    atoms_per_cm3: float,
) -> AngularYield:
    """f and theta_opt of Yamamura, Itikawa & Itoh (1983, heavy ions) for a mean target."""
    total = sum(fractions.values())
    share = {e: n / total for e, n in fractions.items()}
    z2 = sum(c * elements[e].atomic_number for e, c in share.items())
    m2 = sum(c * elements[e].mass_u for e, c in share.items())
    us = sum(c * elements[e].surface_binding_ev for e, c in share.items())
    z1, m1, e = ion.atomic_number, ion.mass_u, ion.energy_ev
    a0, a1 = SIGMUND_FS
    f_s = math.sqrt(us) * (a0 - a1 * m2 / m1)
    c0, c1, h_light, h_heavy = YII_THRESHOLD
    h = h_light if m2 > m1 else h_heavy
    threshold_ev = c0 * us / _gamma(m1, m2) * (1 + c1 * (m1 / m2) ** h) ** 2
    zeta = 1 - math.sqrt(min(threshold_ev / e, 1.0))
    f = f_s * (1 + YII_F_THRESHOLD * (1 - zeta) / zeta) if zeta > 0 else 0.0
    zsum = z1**TWO_THIRDS + z2**TWO_THIRDS
    screening = LINDHARD_SCREENING_ANGSTROM / math.sqrt(zsum)
    spacing = atoms_per_cm3 ** (-1.0 / 3.0) / CM_PER_ANGSTROM
    psi = (screening / spacing) ** 1.5 * math.sqrt(z1 * z2 / (math.sqrt(zsum) * e))
    scale, power = YII_THETA_OPT
    return AngularYield(f=f, theta_opt_deg=DEG_RIGHT_ANGLE - scale * psi**power)


def _phase_makeup(p: MaterialParameters) -> dict[Material, tuple[dict[str, float], float]]:
    """Atoms per formula (or fractions) and atom density of each solid phase."""
    comp = compositions(p)
    nmc = {"Li": p.nmc_reference_li_per_formula, **comp.nmc_per_formula}
    return {
        Material.NMC811: (nmc, p.nmc_atom_density_per_cm3),
        Material.CBD: (comp.cbd_fraction, p.cbd_atom_density_per_cm3),
        Material.PORE: (comp.pore_fraction, p.epoxy_atom_density_per_cm3),
    }


def primary_ion(c: ColumnParameters) -> Ion:
    """The column's ion at its nominal voltage (singly charged: E = e V). The yields are taken
    there: a voltage change does not change them (docs/physics.md, not modelled)."""
    return Ion(c.ion_atomic_number, c.ion_mass_u, c.voltage_kv * EV_PER_KEV)


def nmc_volume_per_dose_estimate_um3_per_nc(
    column: ColumnParameters, materials: MaterialParameters
) -> float:
    """The derivation of ``nmc_volume_per_dose_um3_per_nc``: Yamamura-Tawara, mixed, at x_ref."""
    fractions, density = _phase_makeup(materials)[Material.NMC811]
    y = compound_yield_atoms_per_ion(primary_ion(column), fractions, materials.sputter_elements)
    return volume_per_dose_from_yield(y, density)


class SputterModel:
    """Volume per dose of each phase at any incidence: Yv(0) of the phase x Y(theta) / Y(0).

    Yv(0) is the phase's parameter (``*_volume_per_dose_um3_per_nc``); the angular law is
    Yamamura's with f and theta_opt computed once from the ion and the phase's makeup.
    """

    def __init__(self, column: ColumnParameters, m: MaterialParameters) -> None:
        ion = primary_ion(column)
        self._normal = {
            Material.NMC811: m.nmc_volume_per_dose_um3_per_nc,
            Material.CBD: m.cbd_volume_per_dose_um3_per_nc,
            Material.PORE: m.epoxy_volume_per_dose_um3_per_nc,
            Material.VACUUM: 0.0,
        }
        self.angular = {
            phase: yamamura_angular(ion, fractions, m.sputter_elements, density)
            for phase, (fractions, density) in _phase_makeup(m).items()
        }
        self.angular[Material.VACUUM] = self.angular[Material.NMC811]  # no atoms: Yv(0) = 0

    @property
    def nmc(self) -> AngularYield:
        """The angular law of the NMC matrix (what patterns are timed for)."""
        return self.angular[Material.NMC811]

    def volume_per_dose_um3_per_nc(self, phase: Material, incidence_deg: float) -> float:
        return self._normal[phase] * self.angular[phase].ratio(incidence_deg)

    def volume_per_dose_by_label(self, incidence_deg: float) -> np.ndarray:
        """Yv (um^3/nC) indexed by material label, at ``incidence_deg``."""
        import numpy as np

        table = np.zeros(len(Material))
        for phase in Material:
            table[phase] = self.volume_per_dose_um3_per_nc(phase, incidence_deg)
        return table


def volume_per_dose_um3_per_nc(
    phase: Material, incidence_deg: float, params: TwinParameters
) -> float:
    """Volume per dose of ``phase`` hit at ``incidence_deg`` from its normal (um^3/nC).

    A convenience for one-off calls; a device that asks often builds one :class:`SputterModel`.
    """
    model = SputterModel(params.column, params.materials)
    return model.volume_per_dose_um3_per_nc(phase, incidence_deg)
