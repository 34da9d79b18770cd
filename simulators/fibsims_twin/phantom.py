"""The procedural NMC811 cathode phantom, evaluated face by face: the twin's ground truth.

Why face by face: a 20 x 15 x 10 um volume at image resolution would be billions of voxels. The
phantom is instead a set of analytic objects (a Boolean model of spheres, see
:mod:`fibsims_twin.spheres`) cut by the plane of the current face and rasterised on the grid the
detector asks for, so any face anywhere is exact, reproducible and cheap.

Model (v1):
- secondary particles (label 1, NMC811): spheres, lognormal radii around 5.22 um;
- carbon-binder domain (label 2): pore points within ``cbd_neck_reach_um`` of the surfaces of
  two different particles, i.e. the necks between them;
- pore (label 0): the rest, filled with epoxy in a FIB sample.
Porosity means the pore (label 0) fraction: CBD counts as solid, as a segmentation of the SE
images would count it. The sphere intensity is calibrated analytically so that this fraction
equals the recipe's ``porosity``.

Li field: each particle draws a mean Li content x (Li_x Ni0.8 Mn0.1 Co0.1 O2) and a core-shell
gradient g; inside it x(rho) = x_p + g (rho^2 - 3/5), rho the distance from the centre over the
radius (3/5 is the volume mean of rho^2, so x_p stays the particle mean). Where particles
overlap, a point belongs to the particle of largest power R^2 - |p - c|^2.

Coordinates: the face frame of :mod:`fibsims.instrument.types` (x across, y down, z along the
slicing axis), shifted by a fixed ``origin_offset_um`` so that z = 0 is not a cell boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from fibsims.instrument import InstrumentError
from fibsims.instrument.isotopes import ISOTOPES
from fibsims_twin.materials import ELEMENTS, Compositions, Material, compositions
from fibsims_twin.parameters import MaterialParameters, PhantomParameters
from fibsims_twin.sections import check_axis, power_owner, weighted_cover_counts
from fibsims_twin.spheres import (
    CX,
    CY,
    CZ,
    RADIUS,
    SOC,
    SOC_GRADIENT,
    BooleanStatistics,
    SphereField,
    calibrate_intensity,
)

PHANTOMS: tuple[str, ...] = ("nmc811",)
TWIN_KEYS: tuple[str, ...] = ("phantom", "seed", "porosity")
SOLID_COVER_WEIGHT = 1 << 16  # see sections.weighted_cover_counts
CBD_MIN_PARTICLES = 2  # the model's rule: CBD sits where two particles come within reach
MEAN_RHO2_IN_BALL = 3.0 / 5.0  # geometry: volume average of (r / R)^2 over a ball
KNOWN_ELEMENTS = frozenset(ELEMENTS) | {iso.element for iso in ISOTOPES.values()}

EXAMPLE_TWIN = "twin: {phantom: nmc811, seed: 811, porosity: 0.30}"


class FaceTruth:
    """What the phantom holds on one face, on the grid x (W,) by y (H,), as (H, W) arrays."""

    def __init__(
        self,
        z_um: float,
        x_um: np.ndarray,
        y_um: np.ndarray,
        labels: np.ndarray,
        spheres: np.ndarray,
        section_r2: np.ndarray,
        grid: tuple[np.ndarray, np.ndarray],
        composition: Compositions,
        p: PhantomParameters,
    ) -> None:
        self.z_um = z_um
        self.x_um = x_um
        self.y_um = y_um
        self.labels = labels
        self._spheres = spheres
        self._section_r2 = section_r2
        self._grid = grid
        self._composition = composition
        self._p = p

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    @cached_property
    def soc(self) -> np.ndarray:
        """Li content x of Li_x(NMC811) per pixel (float32); 0 outside NMC."""
        x, y = self._grid
        s, p = self._spheres, self._p
        owner, power = power_owner(x, y, s[:, CX], s[:, CY], self._section_r2)
        k = np.maximum(owner, 0)  # gathers below are full-image; non-NMC pixels are masked
        column = s.astype(np.float32)
        radius2 = (column[:, RADIUS] ** 2)[k]
        rho2 = 1.0 - power / radius2
        local = column[:, SOC][k] + column[:, SOC_GRADIENT][k] * (rho2 - MEAN_RHO2_IN_BALL)
        np.clip(local, p.soc_min, p.soc_max, out=local)
        # a pixel exactly on a circle edge may be NMC for one rasteriser and not the other
        local[owner < 0] = p.soc_mean
        return np.where(self.labels == Material.NMC811, local, np.float32(0.0))

    @cached_property
    def li_fraction(self) -> np.ndarray:
        """Li atomic fraction, x / (x + 3) in NMC811 and 0 elsewhere (float32)."""
        return self.atomic_fraction("Li")

    def atomic_fraction(self, element: str) -> np.ndarray:
        """Atomic fraction of ``element`` (e.g. "Li", "Ni", "O", "C", "F") per pixel (float32)."""
        if element not in KNOWN_ELEMENTS:
            known = ", ".join(sorted(KNOWN_ELEMENTS))
            raise ValueError(f"unknown element {element!r}; known: {known}")
        composition = self._composition
        by_label = np.zeros(len(Material), dtype=np.float32)
        for material in (Material.PORE, Material.CBD):
            by_label[material] = composition.constant_fraction(material, element)
        out = by_label[self.labels]
        if element == "Li" or element in composition.nmc_per_formula:
            in_nmc = composition.nmc_fraction(element, self.soc)
            out = np.where(self.labels == Material.NMC811, in_nmc, out)
        return out.astype(np.float32, copy=False)

    def phase_fraction(self, material: Material) -> float:
        return float(np.mean(self.labels == material))


class Phantom:
    """An unbounded NMC811 cathode, fixed by its seed and target porosity."""

    name = "nmc811"

    def __init__(
        self,
        seed: int,
        porosity: float | None = None,
        parameters: PhantomParameters | None = None,
        materials: MaterialParameters | None = None,
    ) -> None:
        self.parameters = parameters or PhantomParameters()
        self.seed = int(seed)
        self.porosity = self.parameters.default_porosity if porosity is None else float(porosity)
        self.statistics: BooleanStatistics = calibrate_intensity(self.porosity, self.parameters)
        self.spheres = SphereField(self.seed, self.statistics.intensity_per_um3, self.parameters)
        self.composition = compositions(materials or MaterialParameters())

    @classmethod
    def from_sample(
        cls,
        sample: Mapping[str, Any],
        parameters: PhantomParameters | None = None,
        materials: MaterialParameters | None = None,
    ) -> Phantom:
        """Build the phantom a recipe's ``sample`` section names (its ``twin`` subsection)."""
        p = parameters or PhantomParameters()
        seed, porosity = _read_twin_section(sample, p)
        return cls(seed, porosity, p, materials)

    def face(self, z_um: float, x_um: np.ndarray, y_um: np.ndarray) -> FaceTruth:
        """The phantom on the face at ``z_um``, sampled at x (W,) by y (H,) (ascending axes)."""
        x = check_axis("x_um", x_um)
        y = check_axis("y_um", y_um)
        ox, oy, oz = self.parameters.origin_offset_um
        px, py, pz = x + ox, y + oy, float(z_um) + oz
        reach = self.parameters.cbd_neck_reach_um
        s = self.spheres.near_plane(pz, (px[0], px[-1]), (py[0], py[-1]), reach)
        dz2 = (s[:, CZ] - pz) ** 2
        section_r2 = s[:, RADIUS] ** 2 - dz2
        dilated_r2 = (s[:, RADIUS] + reach) ** 2 - dz2
        # one pass counts both: dilated covers in the low 16 bits, particle covers above
        covers = weighted_cover_counts(
            px,
            py,
            [
                (s[:, CX], s[:, CY], dilated_r2, 1),
                (s[:, CX], s[:, CY], section_r2, SOLID_COVER_WEIGHT),
            ],
        )
        # NMC: inside a particle; CBD: outside all but within reach of >= 2; pore otherwise
        in_particle = (covers >= SOLID_COVER_WEIGHT).view(np.uint8)
        near_two = (covers >= CBD_MIN_PARTICLES).view(np.uint8)
        labels = near_two * np.uint8(Material.CBD)
        labels -= in_particle * np.uint8(Material.CBD - Material.NMC811)
        return FaceTruth(
            float(z_um), x, y, labels, s, section_r2, (px, py), self.composition, self.parameters
        )


def _read_twin_section(sample: Mapping[str, Any], p: PhantomParameters) -> tuple[int, float]:
    twin = sample.get("twin") if isinstance(sample, Mapping) else None
    if twin is None:
        raise InstrumentError(
            "sample.twin is missing: the 'sim' instrument builds its phantom from it; "
            f"add to the recipe's sample section: {EXAMPLE_TWIN}"
        )
    if not isinstance(twin, Mapping):
        raise InstrumentError(
            f"sample.twin must be a mapping like {{{EXAMPLE_TWIN[6:]}}}, got {twin!r}"
        )
    unknown = sorted(set(twin) - set(TWIN_KEYS))
    if unknown:
        raise InstrumentError(
            f"sample.twin has unknown keys {unknown}; allowed: {', '.join(TWIN_KEYS)}"
        )
    name = twin.get("phantom")
    if name not in PHANTOMS:
        raise InstrumentError(
            f"sample.twin.phantom is {name!r}, which the twin does not know; "
            f"set it to one of: {', '.join(PHANTOMS)} (e.g. {EXAMPLE_TWIN})"
        )
    seed = twin.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InstrumentError(
            f"sample.twin.seed is {seed!r}; add an integer seed that names this sample, "
            f"e.g. {EXAMPLE_TWIN}"
        )
    porosity = twin.get("porosity", p.default_porosity)
    if (
        isinstance(porosity, bool)
        or not isinstance(porosity, int | float)
        or not p.porosity_min <= porosity <= p.porosity_max
    ):
        raise InstrumentError(
            f"sample.twin.porosity is {porosity!r}; set a pore volume fraction between "
            f"{p.porosity_min} and {p.porosity_max} (physics.md: electrodes 0.18-0.44)"
        )
    return seed, float(porosity)
