"""Primary-grain morphology: equiaxed Voronoi cells or radially elongated columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims.instrument import InstrumentError
from fibsims_twin.grains import GrainLattice, grains_at_points
from fibsims_twin.materials import Material
from fibsims_twin.parameters import MicrostructureParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.radial import merge_radially

CENTRE_UM = np.array([40.3, 17.1, -8.2])  # a particle centre, off every lattice line


def _grain_shapes(radial: bool) -> tuple[np.ndarray, np.ndarray]:
    """Aspect (long / mean short axis) and |cos| between the long axis and the radius, for the
    grains wholly inside a box 2.0 to 4.4 um from the centre along x."""
    micro = MicrostructureParameters()
    lattice = GrainLattice(5, micro.grain_spacing_um, micro.grain_jitter, 0.5)
    axis = np.arange(-0.8, 0.8, 0.03)
    gx, gy, gz = np.meshgrid(np.arange(2.0, 4.4, 0.03), axis, axis, indexing="ij")
    offsets = np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()])
    sample = grains_at_points(lattice, CENTRE_UM + offsets)
    if radial:
        centres = np.broadcast_to(CENTRE_UM[:, None], (3, offsets.shape[0]))
        inside = np.ones(offsets.shape[0], dtype=bool)
        sample = merge_radially(sample, centres, inside, micro)
    keys, grain = np.unique(sample.near_key, return_inverse=True)
    edge = (offsets[:, 0] < 2.02) | (offsets[:, 0] > 4.36) | (np.abs(offsets[:, 1:]) > 0.76).any(1)
    cut = np.bincount(grain, edge, minlength=keys.size) > 0
    aspects, alignment = [], []
    for g in np.flatnonzero(~cut & (np.bincount(grain, minlength=keys.size) >= 60)):
        points = offsets[grain == g]
        values, vectors = np.linalg.eigh(np.cov(points.T))
        aspects.append(np.sqrt(values[2] / np.sqrt(values[0] * values[1])))
        radius = points.mean(axis=0) / np.linalg.norm(points.mean(axis=0))
        alignment.append(abs(vectors[:, 2] @ radius))
    return np.asarray(aspects), np.asarray(alignment)


def test_radial_primaries_are_elongated_along_the_radius() -> None:
    aspect, alignment = _grain_shapes(radial=True)
    assert aspect.size >= 10
    assert np.mean(aspect) > 1.9  # columns of ~3 seeds: ~2.2 measured (random seeds per bin)
    assert np.mean(alignment) > 0.75  # long axes along the radius (random: 0.5)
    equiaxed_aspect, equiaxed_alignment = _grain_shapes(radial=False)
    assert np.mean(equiaxed_aspect) < 1.5
    assert np.mean(equiaxed_alignment) < 0.65


def test_radial_morphology_is_chosen_by_name_and_keeps_the_phases() -> None:
    axis = (np.arange(512) - 256) * 0.02
    radial_micro = dataclasses.replace(MicrostructureParameters(), primary_morphology="radial")
    equiaxed = Phantom(seed=811, porosity=0.3).face(0.3, axis, axis)
    radial = Phantom(seed=811, porosity=0.3, micro=radial_micro).face(0.3, axis, axis)
    nmc = radial.labels == Material.NMC811
    assert nmc.mean() > 0.1
    # fewer boundaries inside the particles (merged cells), different grains
    assert np.mean(np.abs(radial.boundary_um[nmc]) < 0.02) < 0.9 * np.mean(
        np.abs(equiaxed.boundary_um[nmc]) < 0.02
    )
    assert np.mean(radial.grain_contrast[nmc] != equiaxed.grain_contrast[nmc]) > 0.5
    with pytest.raises(ValueError, match=r"primary_morphology.*equiaxed, radial"):
        Phantom(
            seed=1,
            porosity=0.3,
            micro=dataclasses.replace(MicrostructureParameters(), primary_morphology="needles"),
        )


def test_the_recipe_chooses_the_primaries() -> None:
    sample = {"twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.3, "primaries": "radial"}}
    assert Phantom.from_sample(sample).micro.primary_morphology == "radial"
    default = {"twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.3}}
    assert Phantom.from_sample(default).micro.primary_morphology == "equiaxed"
    with pytest.raises(InstrumentError, match=r"primaries is 'rods'.*equiaxed, radial"):
        Phantom.from_sample({"twin": {**default["twin"], "primaries": "rods"}})
