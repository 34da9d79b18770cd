"""The phantom's Li field: grain-to-grain spread and the Li-poor surface layer, in the truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims_twin.materials import Material
from fibsims_twin.parameters import NM_PER_UM, PhantomParameters
from fibsims_twin.particles import RADIUS
from fibsims_twin.phantom import Phantom

AXIS_UM = (np.arange(768) - 384) * 0.013  # 10 um at the SE image's 13 nm pixels


def _faces(**changes):
    """The same face with the default Li field and with ``changes`` to it."""
    p = PhantomParameters()
    default = Phantom(seed=811, porosity=0.3, parameters=p).face(0.3, AXIS_UM, AXIS_UM)
    other = Phantom(seed=811, porosity=0.3, parameters=dataclasses.replace(p, **changes))
    return default, other.face(0.3, AXIS_UM, AXIS_UM)


def test_each_primary_grain_carries_its_own_li_offset_of_the_stated_spread() -> None:
    p = PhantomParameters()
    grains, smooth = _faces(grain_soc_sigma=0.0)
    nmc = grains.labels == Material.NMC811
    assert nmc.mean() > 0.1
    inner = nmc & (np.abs(grains.boundary_um) > 0.03)  # off the boundaries (nearest node)
    offset = (grains.soc - smooth.soc)[inner]
    unclipped = (smooth.soc[inner] > p.soc_min + 0.2) & (smooth.soc[inner] < p.soc_max - 0.2)
    offset = offset[unclipped]
    assert np.std(offset) == pytest.approx(p.grain_soc_sigma, rel=0.2)
    assert abs(np.mean(offset)) < 0.2 * p.grain_soc_sigma
    # one value per grain: far fewer distinct offsets than pixels, and the truth shows them
    assert np.unique(np.round(offset, 6)).size < offset.size / 50
    li = grains.li_fraction[inner][unclipped]
    assert np.std(li - smooth.li_fraction[inner][unclipped]) > 0.5 * p.grain_soc_sigma / 4


def test_the_surface_layer_lowers_li_within_its_thickness_of_the_particle_surface() -> None:
    p = PhantomParameters()
    layered, bare = _faces(surface_layer_soc_delta=0.0)
    nmc = layered.labels == Material.NMC811
    owner, rho2 = layered._owner
    radius = layered._table[np.maximum(owner, 0), RADIUS]
    depth_um = (1.0 - np.sqrt(np.minimum(rho2, 1.0))) * radius
    thickness_um = p.surface_layer_thickness_nm / NM_PER_UM
    change = (layered.soc - bare.soc)[nmc]
    in_layer = depth_um[nmc] < thickness_um - 1e-4
    below = depth_um[nmc] > thickness_um + 1e-4
    assert in_layer.sum() > 200  # a ~1-pixel rim around every particle section
    # x drops by the delta (unless the clip at soc_min takes part of it)
    expected = np.maximum(bare.soc[nmc] + p.surface_layer_soc_delta, p.soc_min) - bare.soc[nmc]
    np.testing.assert_allclose(change[in_layer], expected[in_layer], atol=1e-6)
    assert np.all(change[below] == 0)
    assert np.mean(layered.li_fraction[nmc][in_layer]) < np.mean(bare.li_fraction[nmc][in_layer])
