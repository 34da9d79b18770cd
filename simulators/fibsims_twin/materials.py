"""The three phases of the cathode phantom, the vacuum of milled features, and their makeup.

Why a module: the SE detector needs a yield per phase, the ToF a sputter yield per phase and the
atomic fraction of each element, and the ground truth must report the same fractions. Deriving
them all here from the formulas in :mod:`fibsims_twin.parameters` keeps them consistent.

Labels of :class:`~fibsims_twin.phantom.FaceTruth`:
    0 pore: in a FIB sample the pores (and cracks) are filled with epoxy (C, H, O)
    1 NMC811: Li_x Ni0.8 Mn0.1 Co0.1 O2, x varies per particle and with depth in it
    2 CBD: carbon-binder domain, carbon black + PVDF (CH2CF2)n with a little Li (electrolyte
      residue, SEI); its nanopores are epoxy (label 0)
    3 vacuum: nothing, where a feature milled into the block (a fiducial groove) crosses the
      face (:mod:`fibsims_twin.features`); the phantom itself never holds it. It has no atoms,
      so every table below gives it zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from fibsims_twin.parameters import (
    AMPERE_PER_NANOAMPERE,
    ELEMENTARY_CHARGE_C,
    UM3_PER_CM3,
    MaterialParameters,
    PhantomParameters,
)

if TYPE_CHECKING:  # numpy is imported by the per-label tables: the cost model imports this
    import numpy as np


class Material(IntEnum):
    PORE = 0
    NMC811 = 1
    CBD = 2
    VACUUM = 3


def label_value(material: Material) -> np.uint8:
    """``material`` as a scalar of the labels' dtype, for comparisons with a label array.

    Why: NumPy does not take an ``IntEnum`` member for a Python int; it compares through an
    int64 copy of the array, ~13x slower than against a uint8 scalar (same booleans).
    """
    import numpy as np

    return np.uint8(material)


ELEMENTS: tuple[str, ...] = ("Li", "Ni", "Mn", "Co", "O", "C", "F", "H")


def _normalise(counts: dict[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    return {element: n / total for element, n in counts.items()}


@dataclass(frozen=True)
class Compositions:
    """Atoms per NMC formula unit (Li excluded: it is x) and atomic fractions of CBD and epoxy."""

    nmc_per_formula: dict[str, float]
    cbd_fraction: dict[str, float]
    pore_fraction: dict[str, float]

    @property
    def nmc_host_atoms(self) -> float:
        """Atoms per formula unit besides Li (3 for Ni0.8 Mn0.1 Co0.1 O2)."""
        return sum(self.nmc_per_formula.values())

    def nmc_fraction(self, element: str, x: np.ndarray) -> np.ndarray:
        """Atomic fraction of ``element`` in Li_x(NMC): n_element / (x + host atoms)."""
        atoms = x + self.nmc_host_atoms
        if element == "Li":
            return x / atoms
        return self.nmc_per_formula.get(element, 0.0) / atoms

    def constant_fraction(self, material: Material, element: str) -> float:
        table = self.cbd_fraction if material is Material.CBD else self.pore_fraction
        return table.get(element, 0.0)


def carbon_share_of_cbd_mass(p: PhantomParameters) -> float:
    """Carbon black's share of the CBD mass (carbon : PVDF of the slurry)."""
    return p.carbon_mass_fraction / (p.carbon_mass_fraction + p.binder_mass_fraction)


def compositions(p: MaterialParameters, phantom: PhantomParameters | None = None) -> Compositions:
    """Atomic makeup of the phases. The CBD's carbon : PVDF mass ratio is the electrode's
    (:func:`carbon_share_of_cbd_mass`), and a small Li atomic fraction in it
    stands for electrolyte residue and SEI/CEI (``cbd_li_atomic_fraction``)."""
    phantom = phantom or PhantomParameters()
    carbon = carbon_share_of_cbd_mass(phantom)
    carbon_black_mol = carbon / p.carbon_molar_mass_g_per_mol
    pvdf_monomer_mol = (1.0 - carbon) / p.pvdf_monomer_molar_mass_g_per_mol
    host = _normalise(
        {
            "C": carbon_black_mol + 2 * pvdf_monomer_mol,
            "H": 2 * pvdf_monomer_mol,
            "F": 2 * pvdf_monomer_mol,
        }
    )
    li = phantom.cbd_li_atomic_fraction
    cbd = {element: (1.0 - li) * share for element, share in host.items()} | {"Li": li}
    epoxy = {"C": p.epoxy_c_per_formula, "H": p.epoxy_h_per_formula, "O": p.epoxy_o_per_formula}
    nmc = {
        "Ni": p.nmc_ni_per_formula,
        "Mn": p.nmc_mn_per_formula,
        "Co": p.nmc_co_per_formula,
        "O": p.nmc_o_per_formula,
    }
    return Compositions(
        nmc_per_formula=nmc, cbd_fraction=_normalise(cbd), pore_fraction=_normalise(epoxy)
    )


def sputter_yield_atoms_per_ion(
    volume_per_dose_um3_per_nc: float | np.ndarray, atoms_per_cm3: float | np.ndarray
) -> float | np.ndarray:
    """Atoms removed per ion from the volume per dose: Yv * n * (charge per ion)."""
    ions_per_nc = AMPERE_PER_NANOAMPERE / ELEMENTARY_CHARGE_C
    return volume_per_dose_um3_per_nc / UM3_PER_CM3 * atoms_per_cm3 / ions_per_nc


def volume_per_dose_by_label(p: MaterialParameters) -> np.ndarray:
    """Volume per dose Yv (um^3/nC) indexed by material label: how fast each phase mills."""
    import numpy as np

    table = np.zeros(len(Material))
    table[Material.PORE] = p.epoxy_volume_per_dose_um3_per_nc
    table[Material.NMC811] = p.nmc_volume_per_dose_um3_per_nc
    table[Material.CBD] = p.cbd_volume_per_dose_um3_per_nc
    return table


def atom_density_by_label(p: MaterialParameters) -> np.ndarray:
    """Atoms per cm^3 indexed by material label (vacuum 0)."""
    import numpy as np

    table = np.zeros(len(Material))
    table[Material.PORE] = p.epoxy_atom_density_per_cm3
    table[Material.NMC811] = p.nmc_atom_density_per_cm3
    table[Material.CBD] = p.cbd_atom_density_per_cm3
    return table


def sputter_yields_by_label(
    p: MaterialParameters, volume_per_dose: np.ndarray | None = None
) -> np.ndarray:
    """Sputter yield (atoms/ion) indexed by material label, from ``volume_per_dose`` (um^3/nC by
    label, e.g. at an incidence; normal incidence when None)."""
    if volume_per_dose is None:
        volume_per_dose = volume_per_dose_by_label(p)
    return sputter_yield_atoms_per_ion(volume_per_dose, atom_density_by_label(p))
