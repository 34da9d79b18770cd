"""What the phantom holds on one face: labels at once, the Li field and the rest on demand.

Why lazy: an SE image needs the labels and the grain contrast of a million pixels, not their Li
content; the Li field, the atomic fractions and the grain contrast are computed when first asked
(the SIMS raster and the ground truth ask) and kept.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from fibsims.instrument.isotopes import ISOTOPES
from fibsims_twin.materials import ELEMENTS, Compositions, Material, label_value
from fibsims_twin.microstructure import FaceMicrostructure
from fibsims_twin.parameters import NM_PER_UM
from fibsims_twin.particles import RADIUS, SOC, SOC_GRADIENT
from fibsims_twin.sections import Sections

if TYPE_CHECKING:
    from fibsims_twin.phantom import Phantom

MEAN_RHO2_IN_BALL = 3.0 / 5.0  # geometry: volume average of (r / R)^2 over a ball
KNOWN_ELEMENTS = frozenset(ELEMENTS) | {iso.element for iso in ISOTOPES.values()}
NMC_LABEL = label_value(Material.NMC811)


class FaceTruth:
    """What the phantom holds on one face, on the grid x (W,) by y (H,), as (H, W) arrays.

    ``labels`` (uint8: 0 pore/epoxy, 1 NMC811, 2 CBD) is computed at once; the Li content,
    atomic fractions and grain contrast on demand (an SE image needs none of them).
    """

    def __init__(
        self,
        phantom: Phantom,
        z_um: float,
        axes: tuple[np.ndarray, np.ndarray],
        grid: tuple[np.ndarray, np.ndarray],
        table: np.ndarray,
        solid: Sections,
        labels: np.ndarray,
        structure: FaceMicrostructure,
        owner: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        self.z_um = z_um
        self.x_um, self.y_um = axes
        self.labels = labels
        self._phantom = phantom
        self._grid = grid
        self._table = table
        self._solid = solid
        self._structure = structure
        self._fractions: dict[str, np.ndarray] = {}
        if owner is not None:
            self.__dict__["_owner"] = owner

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    @cached_property
    def _owner(self) -> tuple[np.ndarray, np.ndarray]:
        return self._solid.owner(*self._grid)

    @cached_property
    def soc(self) -> np.ndarray:
        """Li content x of Li_x(NMC811) per pixel (float32); 0 outside NMC.

        x = particle mean + core-shell gradient (rho^2 - 3/5) + the grain's own offset
        (``grain_soc_sigma`` x a zero-mean, unit-variance value per grain) - the loss beside
        open cracks, lowered by ``surface_layer_soc_delta`` within ``surface_layer_thickness_nm``
        of the particle's surface (depth taken as (1 - rho) x the equivalent radius: exact for
        a sphere, the mean depth for a spheroid)."""
        p = self._phantom.parameters
        owner, rho2 = self._owner
        index = np.maximum(owner, 0)
        mean = _column(self._table, SOC).take(index)
        gradient = _column(self._table, SOC_GRADIENT).take(index)
        local = rho2 - np.float32(MEAN_RHO2_IN_BALL)
        local *= gradient
        local += mean
        local -= self._structure.li_loss()
        local += np.float32(p.grain_soc_sigma) * self._structure.grain_li()
        radius = _column(self._table, RADIUS).take(index)
        depth_um = (1.0 - np.sqrt(np.minimum(rho2, np.float32(1.0)))) * radius
        layer = depth_um < np.float32(p.surface_layer_thickness_nm / NM_PER_UM)
        local[layer] += np.float32(p.surface_layer_soc_delta)
        np.clip(local, p.soc_min, p.soc_max, out=local)
        return np.where(self.labels == NMC_LABEL, local, np.float32(0.0))

    @cached_property
    def li_fraction(self) -> np.ndarray:
        """Li atomic fraction: x / (x + 3) in NMC811, ``cbd_li_atomic_fraction`` in the CBD and
        0 in the epoxy (float32)."""
        return self.atomic_fraction("Li")

    @cached_property
    def grain_contrast(self) -> np.ndarray:
        """Zero-mean, unit-variance orientation value of the grain under each NMC pixel."""
        values = self._structure.contrast(1.0, 0.0)
        return np.where(self.labels == NMC_LABEL, values, np.float32(0.0))

    def grain_factor(self, contrast: float) -> np.ndarray:
        """1 + contrast x the grain orientation value, per pixel; meaningful on NMC pixels only
        (the caller masks), which saves the SE image two passes over the pixels."""
        return self._structure.contrast(contrast, 1.0)

    @property
    def boundary_um(self) -> np.ndarray:
        """Distance to the nearest grain boundary (float32; sign: side of the boundary)."""
        return self._structure.boundary_um

    def atomic_fraction(self, element: str) -> np.ndarray:
        """Atomic fraction of ``element`` (e.g. "Li", "Ni", "O", "C", "F") per pixel (float32,
        computed once per element, read-only)."""
        cached = self._fractions.get(element)
        if cached is None:
            cached = self._fractions[element] = self._atomic_fraction(element)
            cached.flags.writeable = False
        return cached

    def _atomic_fraction(self, element: str) -> np.ndarray:
        if element not in KNOWN_ELEMENTS:
            known = ", ".join(sorted(KNOWN_ELEMENTS))
            raise ValueError(f"unknown element {element!r}; known: {known}")
        composition: Compositions = self._phantom.composition
        by_label = np.zeros(len(Material), dtype=np.float32)
        for material in (Material.PORE, Material.CBD):
            by_label[material] = composition.constant_fraction(material, element)
        out = by_label.take(self.labels)  # a gather: faster than fancy indexing, same values
        if element == "Li" or element in composition.nmc_per_formula:
            in_nmc = composition.nmc_fraction(element, self.soc)
            out = np.where(self.labels == NMC_LABEL, in_nmc, out)
        return out.astype(np.float32, copy=False)

    def phase_fraction(self, material: Material) -> float:
        return float(np.mean(self.labels == material))


def _column(table: np.ndarray, column: int) -> np.ndarray:
    """One column of the particle table as float32 (one zero row when the table is empty)."""
    values = table[:, column] if table.shape[0] else np.zeros(1)
    return values.astype(np.float32)
