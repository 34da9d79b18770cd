"""The procedural NMC811 cathode phantom, evaluated face by face: the twin's ground truth.

Why face by face: a 20 x 15 x 10 um volume at image resolution would be billions of voxels. The
phantom is instead a set of analytic objects cut by the plane of the current face and rasterised
on the grid the detector asks for, so any face anywhere is exact, reproducible and cheap.

Model:
- secondary particles (label 1, NMC811): a packing of ellipsoids ~10 um across, some elongated,
  that meet at flattened contacts and never interpenetrate further
  (:mod:`fibsims_twin.packing`, :mod:`fibsims_twin.particles`);
- inside them: primary grains (Voronoi cells of a jittered lattice, or those cells merged into
  radial columns: :mod:`fibsims_twin.grains`, :mod:`fibsims_twin.radial`), intergranular cracks
  on some grain boundaries (:mod:`fibsims_twin.cracks`) and closed internal pores
  (:mod:`fibsims_twin.pores`); cracks and internal pores are filled with epoxy (label 0);
- carbon-binder domain: pore points within the neck reach of two particles or the surface reach
  of one, its volume set by the electrode's composition; inside it a nanoporous texture decides
  solid CBD (label 2) or epoxy-filled nanopore (label 0) (:mod:`fibsims_twin.binder`);
- pore (label 0): the rest, filled with epoxy in a FIB sample.
Porosity is the pore (label 0) fraction, calibrated to the recipe's target with the
composition (:mod:`fibsims_twin.calibration`).

Li field: each particle draws a mean Li content x (Li_x Ni0.8 Mn0.1 Co0.1 O2) and a core-shell
gradient g; inside it x = x_p + g (rho^2 - 3/5) + grain offset - loss(cracks) + surface layer,
rho^2 the normalised radius (x^T Q x) of the point (3/5 is its volume mean, so x_p stays the
particle mean), the loss the depletion beside open cracks (:mod:`fibsims_twin.face`). Where two
particles meet at a contact, a point belongs to the one it lies deepest in (smallest rho^2).

Coordinates: the face frame of :mod:`fibsims.instrument.types` (x across, y down, z along the
slicing axis), shifted by a fixed ``origin_offset_um`` so that z = 0 is not a cell boundary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fibsims.instrument import InstrumentError
from fibsims_twin import microstructure, parallel
from fibsims_twin.binder import BinderTexture
from fibsims_twin.calibration import PhaseStatistics, calibrate
from fibsims_twin.cracks import CrackModel
from fibsims_twin.face import FaceTruth
from fibsims_twin.grains import GrainLattice
from fibsims_twin.materials import Material, compositions, label_value
from fibsims_twin.parameters import (
    MaterialParameters,
    MicrostructureParameters,
    PhantomParameters,
)
from fibsims_twin.particles import (
    CX,
    CZ,
    D_COLUMNS,
    MAX_CRACK_PLANES,
    Q_COLUMNS,
    S_COLUMNS,
    shared_field,
)
from fibsims_twin.pores import InternalPores
from fibsims_twin.radial import check_morphology
from fibsims_twin.sample_section import read_primaries, read_twin_section
from fibsims_twin.sections import Sections, check_axis, cover_counts

# cover counts packed in 15 bits of an int16: particles within the neck reach (5 bits), within
# the surface reach (4 bits), internal pores (2 bits; they never overlap), particles (3 bits; a
# packing meets at contacts, at most a few at a point); bit 14 is the binder's texture (solid).
# A point within the neck reach of 32 particles would need several times the densest packing.
SURFACE_WEIGHT = 1 << 5
PORE_WEIGHT = 1 << 9
SOLID_WEIGHT = 1 << 11
TEXTURE_BIT = 1 << 14
CBD_MIN_PARTICLES = 2  # the model's rule: CBD sits where two particles come within the neck reach


class Phantom:
    """An unbounded NMC811 cathode, fixed by its seed and target porosity."""

    name = "nmc811"

    def __init__(
        self,
        seed: int,
        porosity: float | None = None,
        parameters: PhantomParameters | None = None,
        materials: MaterialParameters | None = None,
        micro: MicrostructureParameters | None = None,
    ) -> None:
        self.parameters = parameters or PhantomParameters()
        self.micro = micro or MicrostructureParameters()
        self.seed = int(seed)
        self.porosity = self.parameters.default_porosity if porosity is None else float(porosity)
        check_morphology(self.micro)
        if not 0 <= self.micro.crack_planes_max <= MAX_CRACK_PLANES:
            raise ValueError(f"crack_planes_max must be 0..{MAX_CRACK_PLANES} (table columns)")
        try:
            self.statistics: PhaseStatistics = calibrate(self.porosity, self.parameters, self.micro)
        except ValueError as error:
            raise InstrumentError(f"sample.twin.porosity: {error}") from None
        self.particles = shared_field(
            self.seed,
            self.statistics.intensity_per_um3,
            self.parameters,
            self.micro,
            self.statistics.neck_reach_um,
            self.statistics.surface_reach_um,
        )
        self.texture = BinderTexture(self.seed, self.parameters)
        self.lattice = GrainLattice(
            self.seed,
            self.micro.grain_spacing_um,
            self.micro.grain_jitter,
            self.micro.grain_lattice_irregularity,
        )
        self.pores = InternalPores.of(self.seed, self.micro)
        self.cracks = CrackModel(self.seed, self.micro)
        self.composition = compositions(materials or MaterialParameters(), self.parameters)

    @classmethod
    def from_sample(
        cls,
        sample: Mapping[str, Any],
        parameters: PhantomParameters | None = None,
        materials: MaterialParameters | None = None,
        micro: MicrostructureParameters | None = None,
    ) -> Phantom:
        """Build the phantom a recipe's ``sample`` section names (its ``twin`` subsection)."""
        p = parameters or PhantomParameters()
        seed, porosity = read_twin_section(sample, p)
        micro = micro or MicrostructureParameters()
        primaries = read_primaries(sample)
        if primaries is not None:
            micro = dataclasses.replace(micro, primary_morphology=primaries)
        return cls(seed, porosity, p, materials, micro)

    def face(self, z_um: float, x_um: np.ndarray, y_um: np.ndarray) -> FaceTruth:
        """The phantom on the face at ``z_um``, sampled at x (W,) by y (H,) (ascending axes)."""
        return self.layers([z_um], x_um, y_um)[0]

    def layers(self, z_um: Sequence[float], x_um: np.ndarray, y_um: np.ndarray) -> list[FaceTruth]:
        """Faces at several close depths (a SIMS raster's sublayers) on one grid.

        Particles and pores are cut at each depth; grains and cracks, whose features are
        hundreds of nm across, are evaluated once at the mean depth and shared (a layer of tens
        of nm shifts an inclined crack by less than a SIMS pixel).
        """
        x = check_axis("x_um", x_um)
        y = check_axis("y_um", y_um)
        ox, oy, oz = self.parameters.origin_offset_um
        px, py = x + ox, y + oy
        depths = [float(z) + oz for z in z_um]
        middle = float(np.mean(depths))
        table, solid = self._sections(middle, px, py)
        # the phases at the mean depth do not depend on the grains: the worker thread
        # rasterises them while this one computes the grains and cracks
        phases = (
            parallel.beside(
                self._phases,
                (table, solid),
                (px, py),
                middle,
                fallback=lambda: self._phases((table, solid), (px, py), middle),
            )
            if middle in depths
            else None
        )
        owner = None
        m = microstructure.grid_subdivisions(
            (px, py), self.lattice, self.micro.grain_grid_subdivisions
        )
        if m:
            structure = microstructure.on_grid(
                self.lattice, self.cracks, table, solid, (px, py), middle, m, self.micro
            )
        else:
            owner = solid.owner(px, py)
            structure = microstructure.at_points(
                self.lattice, self.cracks, table, owner[0], (px, py), middle, self.micro
            )
        crack_pixels = self.cracks.in_crack(structure.boundary_um, structure.is_open)
        faces = []
        for z, pz in zip(z_um, depths, strict=True):
            if pz == middle and phases is not None:
                here, labels = (table, solid), phases.result()
                phases = None  # a depth given twice gets its own labels, as before
            else:
                here = self._sections(pz, px, py)
                labels = self._phases(here, (px, py), pz)
            _open_cracks(labels, crack_pixels)
            faces.append(
                FaceTruth(
                    self,
                    float(z),
                    (x, y),
                    (px, py),
                    *here,
                    labels,
                    structure,
                    owner if pz == middle else None,
                )
            )
        return faces

    def _sections(self, pz: float, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, Sections]:
        """The particles near the plane and the conics it cuts from them."""
        table = self.particles.near_plane(pz, (px[0], px[-1]), (py[0], py[-1]))
        return table, Sections.of(table[:, CX : CZ + 1], table[:, Q_COLUMNS], pz)

    def _phases(
        self,
        here: tuple[np.ndarray, Sections],
        grid: tuple[np.ndarray, np.ndarray],
        pz: float,
    ) -> np.ndarray:
        """NMC inside a particle but not in a pore; CBD outside within the neck reach of two
        particles or the surface reach of one, where its texture is solid; pore (epoxy)
        elsewhere. Open cracks are cut afterwards (:func:`_open_cracks`)."""
        table, solid = here
        px, py = grid
        centres = table[:, CX : CZ + 1]
        necks = Sections.of(centres, table[:, D_COLUMNS], pz)
        coats = Sections.of(centres, table[:, S_COLUMNS], pz)
        covers = cover_counts(
            (py.size, px.size),
            [
                (necks.spans(px, py), 1),
                (coats.spans(px, py), SURFACE_WEIGHT),
                (self.pores.spans(px, py, pz), PORE_WEIGHT),
                (solid.spans(px, py), SOLID_WEIGHT),
            ],
        )
        covers |= self.texture.bits(px, py, pz, TEXTURE_BIT)
        return LABEL_OF_COVERS.take(covers)


def _open_cracks(labels: np.ndarray, crack_pixels: np.ndarray) -> None:
    """NMC inside open cracks becomes pore (epoxy); ``crack_pixels``: flat indices."""
    crack = labels.reshape(-1)[crack_pixels]
    nmc, pore = label_value(Material.NMC811), label_value(Material.PORE)
    labels.reshape(-1)[crack_pixels] = np.where(crack == nmc, pore, crack)


def _label_table() -> np.ndarray:
    """The phase of every packed cover count (see ``PORE_WEIGHT``): NMC inside a particle and
    out of its pores, CBD outside within the neck reach of two particles or the surface reach
    of one where the texture is solid, pore (epoxy) elsewhere."""
    code = np.arange(TEXTURE_BIT << 1)
    necks = code % SURFACE_WEIGHT
    coats = (code // SURFACE_WEIGHT) % (PORE_WEIGHT // SURFACE_WEIGHT)
    pores = (code // PORE_WEIGHT) % (SOLID_WEIGHT // PORE_WEIGHT)
    solids = (code // SOLID_WEIGHT) % (TEXTURE_BIT // SOLID_WEIGHT)
    textured = code >= TEXTURE_BIT
    labels = np.full(code.size, Material.PORE, dtype=np.uint8)
    labels[(solids > 0) & (pores == 0)] = Material.NMC811
    domain = (solids == 0) & ((necks >= CBD_MIN_PARTICLES) | (coats >= 1))
    labels[domain & textured] = Material.CBD
    return labels


LABEL_OF_COVERS = _label_table()
