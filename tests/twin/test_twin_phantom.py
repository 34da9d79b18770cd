"""The NMC811 phantom: porosity, phases, grains, cracks, pores, Li field, composition.

Packing and binder: test_twin_packing.py; the Li field's grain and surface terms:
test_twin_li_field.py."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from fibsims.instrument import InstrumentError
from fibsims_twin.face import MEAN_RHO2_IN_BALL
from fibsims_twin.grains import grains_at_points, grains_on_grid
from fibsims_twin.materials import ELEMENTS, Material
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.particles import (
    CRACK_PLANES,
    CX,
    CY,
    CZ,
    Q_COLUMNS,
    SOC,
    SOC_GRADIENT,
)
from fibsims_twin.phantom import Phantom

# wide faces, coarse pixels: one 20 x 15 um face holds one or two ~10 um particles, so its pore
# fraction swings by +-0.3; statistics are checked on faces 240 um wide. The pitch and depths
# avoid multiples of the internal pores' lattice (0.5 um), which a grid could alias with.
WIDE_AXIS_UM = np.arange(-120.0, 120.0, 1.0137)
WIDE_FACES_Z_UM = (0.013, 60.1, 120.2, 180.3)


@pytest.fixture(scope="module")
def wide() -> dict[float, tuple[Phantom, list]]:
    faces = {}
    for target in (0.30, 0.40):
        phantom = Phantom(seed=811, porosity=target)
        faces[target] = (
            phantom,
            [phantom.face(z, WIDE_AXIS_UM, WIDE_AXIS_UM) for z in WIDE_FACES_Z_UM],
        )
    return faces


def image_axes(width: int = 1536, height: int = 1024, field_um: float = 20.0):
    pitch = field_um / width
    return (
        (np.arange(width) + 0.5 - width / 2) * pitch,
        (np.arange(height) + 0.5 - height / 2) * pitch,
    )


@pytest.mark.parametrize("target", [0.30, 0.40])
def test_pore_fraction_of_faces_matches_the_target_porosity(wide, target: float) -> None:
    phantom, faces = wide[target]
    assert phantom.statistics.pore_fraction == pytest.approx(target, abs=1e-9)
    measured = [face.phase_fraction(Material.PORE) for face in faces]
    assert all(abs(m - target) <= 0.04 for m in measured), measured
    assert abs(np.mean(measured) - target) <= 0.012, measured


def test_internal_pores_and_cracks_fill_the_calibrated_share_of_the_particles(wide) -> None:
    phantom, faces = wide[0.30]
    inside = [face._owner[0] >= 0 for face in faces]
    share = np.mean(
        [np.mean(f.labels[m] == Material.PORE) for f, m in zip(faces, inside, strict=True)]
    )
    assert 0.02 < phantom.statistics.internal_pore_share < 0.08
    assert share == pytest.approx(phantom.statistics.internal_pore_share, abs=0.006)


def test_binder_fraction_matches_the_stated_composition_within_2_vol_percent(wide) -> None:
    # 8:1:1 by mass with NMC811 4.75, carbon black 1.9 and PVDF 1.78 g/cm3 (computed here, not
    # by the code under test): CBD solid = 0.392 of the solids
    p = PhantomParameters()
    assert (p.active_mass_fraction, p.carbon_mass_fraction, p.binder_mass_fraction) == (
        0.8,
        0.1,
        0.1,
    )
    per_gram = {"nmc": 0.8 / 4.75, "carbon": 0.1 / 1.9, "pvdf": 0.1 / 1.78}
    cbd_share = (per_gram["carbon"] + per_gram["pvdf"]) / sum(per_gram.values())
    for target, (phantom, faces) in wide.items():
        expected = cbd_share * (1.0 - target)
        assert phantom.statistics.cbd_fraction == pytest.approx(expected, rel=1e-3)
        measured = np.mean([face.phase_fraction(Material.CBD) for face in faces])
        assert abs(measured - expected) <= 0.02, (target, measured, expected)
        nmc = np.mean([face.phase_fraction(Material.NMC811) for face in faces])
        assert abs(nmc - (1.0 - cbd_share) * (1.0 - target)) <= 0.02, (target, nmc)


def test_secondary_particles_are_about_10_um_across_and_some_are_elongated() -> None:
    p = PhantomParameters()
    phantom = Phantom(seed=5, porosity=0.3)
    table = np.concatenate([phantom.particles.cell(i, j, 0) for i in range(4) for j in range(2)])
    forms = table[:, Q_COLUMNS]
    full = np.zeros((len(table), 3, 3))
    full[:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]] = forms
    full = full + np.triu(full, 1).transpose(0, 2, 1)
    semi_axes = 1.0 / np.sqrt(np.linalg.eigvalsh(full))  # ascending forms: descending axes
    diameter = 2.0 * np.prod(semi_axes, axis=1) ** (1 / 3)
    # shrinking to contact takes a few per cent off the drawn radii
    assert np.mean(diameter) == pytest.approx(2 * p.mean_radius_um, rel=0.1)
    assert np.std(diameter) > 0.1 * np.mean(diameter)  # a spread of sizes
    # long axis over the mean of the two short ones: the triaxial scatter alone stays < 1.3
    longest = semi_axes.max(axis=1)
    aspect = longest / np.sqrt(np.prod(semi_axes, axis=1) / longest)
    assert np.mean(aspect > 1.3) == pytest.approx(p.elongated_fraction, abs=0.06)
    assert aspect.max() > 0.9 * p.elongation_max


def test_primary_grains_are_a_few_hundred_nm_across() -> None:
    phantom = Phantom(seed=3, porosity=0.3)
    x, y = image_axes(768, 768, field_um=10.0)
    grid = grains_on_grid(phantom.lattice, (x[0], x[-1]), (y[0], y[-1]), 0.3, 3)
    sections = len(np.unique(grid.sample.near_key))
    area_um2 = (grid.x_um[-1] - grid.x_um[0]) * (grid.y_um[-1] - grid.y_um[0])
    diameter_nm = 1000 * np.sqrt(4 * area_um2 / sections / np.pi)
    assert 100 < diameter_nm < 500  # docs/physics.md: primary particles 100-500 nm


def test_grains_on_the_node_grid_equal_grains_evaluated_point_by_point() -> None:
    phantom = Phantom(seed=7, porosity=0.3)
    grid = grains_on_grid(phantom.lattice, (130.0, 134.0), (60.0, 63.0), 211.4, 3)
    gx, gy = np.meshgrid(grid.x_um, grid.y_um)
    points = np.column_stack([gx.ravel(), gy.ravel(), np.full(gx.size, 211.4)])
    direct = grains_at_points(phantom.lattice, points)
    np.testing.assert_array_equal(direct.near_key, grid.sample.near_key.ravel())
    np.testing.assert_array_equal(direct.next_key, grid.sample.next_key.ravel())
    np.testing.assert_allclose(direct.signed_um, grid.sample.signed_um.ravel(), atol=1e-5)


def test_grain_boundaries_are_as_dense_on_every_face_no_lattice_period() -> None:
    # a regular lattice would put every tenth 25 nm face on a lattice plane (+40 % boundary)
    phantom = Phantom(seed=9, porosity=0.3)
    x, y = image_axes(512, 512, field_um=10.0)
    near = []
    for k in range(20):
        grid = grains_on_grid(phantom.lattice, (x[0], x[-1]), (y[0], y[-1]), 0.025 * k, 3)
        near.append(np.mean(np.abs(grid.sample.signed_um) < 0.02))
    near = np.asarray(near)
    assert near.std() / near.mean() < 0.05  # a regular lattice swings by +-15 %


def test_li_is_depleted_beside_open_cracks_and_recovers_over_the_depletion_length() -> None:
    micro = MicrostructureParameters()
    x, y = image_axes(1024, 1024, field_um=14.0)
    depleted = Phantom(seed=811, porosity=0.3).face(0.3, x, y)
    intact = Phantom(
        seed=811, porosity=0.3, micro=dataclasses.replace(micro, crack_li_depletion=0.0)
    ).face(0.3, x, y)
    nmc = depleted.labels == Material.NMC811
    loss = (intact.soc - depleted.soc)[nmc]
    distance = np.abs(depleted.boundary_um[nmc]) - micro.crack_opening_nm / 2000
    beside = depleted._structure.is_open[nmc]
    assert beside.sum() > 1000  # the face crosses cracks
    wall = loss[beside & (distance < 0.02)].mean()
    far = loss[beside & (distance > 0.08) & (distance < 0.12)].mean()
    assert wall == pytest.approx(micro.crack_li_depletion * np.exp(-0.01 / 0.1), rel=0.25)
    length_um = micro.crack_depletion_length_nm / 1000
    assert far / wall == pytest.approx(np.exp(-(0.1 - 0.01) / length_um), rel=0.35)
    assert np.all(loss[~beside] <= micro.crack_li_depletion)


def test_phantom_is_deterministic_per_seed() -> None:
    x, y = image_axes(384, 256)
    a = Phantom(seed=811, porosity=0.3).face(0.5, x, y)
    b = Phantom(seed=811, porosity=0.3).face(0.5, x, y)
    c = Phantom(seed=812, porosity=0.3).face(0.5, x, y)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.li_fraction, b.li_fraction)
    np.testing.assert_array_equal(a.grain_contrast, b.grain_contrast)
    assert np.mean(a.labels != c.labels) > 0.05


def test_phantom_is_independent_of_evaluation_order_and_cache() -> None:
    x, y = image_axes(384, 256)
    # a face needs 8 packed cells, 64 relaxed and 216 drawn: a cache of 64 evicts within one
    # face as well as between faces (a cache of 4 tested the same at 10x the cost)
    small_cache = dataclasses.replace(PhantomParameters(), cell_cache_size=64)
    first = Phantom(seed=9, porosity=0.3).face(2.0, x, y)
    busy = Phantom(seed=9, porosity=0.3, parameters=small_cache)
    busy.face(2.0, x + 64.0, y)  # one cell over: half the cells come first, from another side
    busy.face(500.0, x, y)  # elsewhere: evicts them
    again = busy.face(2.0, x, y)
    np.testing.assert_array_equal(first.labels, again.labels)
    np.testing.assert_array_equal(first.soc, again.soc)


def test_a_window_of_a_face_equals_the_same_pixels_of_a_larger_face() -> None:
    phantom = Phantom(seed=4, porosity=0.3)
    x, y = image_axes(1024, 768, field_um=20.0)
    whole = phantom.face(1.0, x, y)
    part = phantom.face(1.0, x[100:600], y[50:400])
    window = (slice(50, 400), slice(100, 600))
    np.testing.assert_array_equal(part.labels, whole.labels[window])
    np.testing.assert_array_equal(part.li_fraction, whole.li_fraction[window])
    np.testing.assert_array_equal(part.grain_contrast, whole.grain_contrast[window])


def test_li_fraction_is_x_over_x_plus_3_in_nmc_a_trace_in_the_binder_and_zero_in_epoxy() -> None:
    p = PhantomParameters()
    x, y = image_axes(384, 256, field_um=40.0)
    face = Phantom(seed=1, porosity=0.3).face(3.0, x, y)
    nmc = face.labels == Material.NMC811
    assert nmc.any() and (~nmc).any()
    soc = face.soc[nmc]
    assert soc.min() >= p.soc_min and soc.max() <= p.soc_max
    np.testing.assert_allclose(face.li_fraction[nmc], soc / (soc + 3.0), rtol=1e-6)
    cbd = face.labels == Material.CBD
    assert cbd.any()
    np.testing.assert_allclose(face.li_fraction[cbd], p.cbd_li_atomic_fraction, rtol=1e-6)
    assert np.all(face.li_fraction[face.labels == Material.PORE] == 0)
    assert np.std(soc) > 0.02  # particles differ in state of charge


def test_atomic_fractions_sum_to_one_in_every_phase() -> None:
    x, y = image_axes(384, 256, field_um=40.0)
    face = Phantom(seed=2, porosity=0.3).face(0.0, x, y)
    assert {int(v) for v in np.unique(face.labels)} == {0, 1, 2}
    total = sum(face.atomic_fraction(element) for element in ELEMENTS)
    np.testing.assert_allclose(total, 1.0, atol=1e-5)


def test_phase_compositions_follow_their_formulas() -> None:
    x, y = image_axes(384, 256, field_um=40.0)
    face = Phantom(seed=2, porosity=0.3).face(0.0, x, y)
    cbd = face.labels == Material.CBD
    pore = face.labels == Material.PORE
    nmc = face.labels == Material.NMC811
    # CBD = carbon black + PVDF 1:1 by mass: H = F = 2 per C2H2F2 monomer, no O; C / F from
    # the masses: (0.5 / 12.011 + 2 x 0.5 / 64.035) / (2 x 0.5 / 64.035)
    f_cbd = face.atomic_fraction("F")[cbd]
    np.testing.assert_allclose(f_cbd, face.atomic_fraction("H")[cbd])
    carbon_per_fluorine = (0.5 / 12.011 + 2 * 0.5 / 64.035) / (2 * 0.5 / 64.035)
    np.testing.assert_allclose(
        face.atomic_fraction("C")[cbd] / f_cbd, carbon_per_fluorine, rtol=1e-5
    )
    assert np.all(face.atomic_fraction("O")[cbd] == 0)
    assert np.all(face.atomic_fraction("F")[pore | nmc] == 0)  # fluorine marks the binder
    # NMC811: Ni / Mn = 8 and O / (Ni + Mn + Co) = 2 whatever the Li content
    ni, mn = face.atomic_fraction("Ni")[nmc], face.atomic_fraction("Mn")[nmc]
    np.testing.assert_allclose(ni / mn, 8.0, rtol=1e-5)
    metals = ni + mn + face.atomic_fraction("Co")[nmc]
    np.testing.assert_allclose(face.atomic_fraction("O")[nmc] / metals, 2.0, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown element"):
        face.atomic_fraction("Qx")


def test_core_shell_gradient_follows_the_normalised_radius() -> None:
    no_pores = dataclasses.replace(MicrostructureParameters(), internal_pore_fraction=0.0)
    # only the particle's mean and core-shell terms (the grain and surface terms: li_field tests)
    smooth = dataclasses.replace(
        PhantomParameters(), grain_soc_sigma=0.0, surface_layer_soc_delta=0.0
    )
    phantom = Phantom(seed=811, porosity=0.6, parameters=smooth, micro=no_pores)  # sparse
    ox, oy, oz = phantom.parameters.origin_offset_um
    table = np.concatenate([phantom.particles.cell(i, j, 3) for i in range(2, 5) for j in range(2)])
    checked = 0
    for row in table[(table[:, CRACK_PLANES] == 0) & (np.abs(table[:, SOC_GRADIENT]) > 0.03)]:
        x = row[CX] - ox + np.linspace(-2.0, 2.0, 9)
        face = phantom.face(row[CZ] - oz, x, np.array([row[CY] - oy]))
        owner, _ = face._owner
        if np.any(owner < 0) or np.any(face._table[owner[0], CX] != row[CX]):
            continue  # another particle claims part of the line
        q = np.zeros((3, 3))
        q[[0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]] = row[Q_COLUMNS]
        q = q + np.triu(q, 1).T
        offsets = np.column_stack([x + ox - row[CX], np.zeros(9), np.zeros(9)])
        rho2 = np.einsum("ni,ij,nj->n", offsets, q, offsets)
        expected = np.clip(row[SOC] + row[SOC_GRADIENT] * (rho2 - MEAN_RHO2_IN_BALL), 0.2, 1.0)
        np.testing.assert_allclose(face.soc[0], expected, atol=1e-5)
        checked += 1
    assert checked >= 3


def test_full_image_face_evaluates_well_under_a_slice_budget() -> None:
    phantom = Phantom(seed=811, porosity=0.3)
    x, y = image_axes()
    phantom.face(0.0, x, y)  # generate the cells once
    best = min(_timed(lambda z=z: phantom.face(z, x, y)) for z in (0.025, 0.05, 0.075))
    assert best < 0.15  # ~40 ms on the 2-core machine; benchmarks/twin_slice.py tracks it


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"name": "x"}, "sample.twin is missing.*phantom: nmc811"),
        ({"twin": {"phantom": "lfp", "seed": 1}}, "does not know.*nmc811"),
        ({"twin": {"phantom": "nmc811"}}, "integer seed"),
        ({"twin": {"phantom": "nmc811", "seed": 1, "porosity": 1.5}}, "porosity is 1.5"),
        ({"twin": {"phantom": "nmc811", "seed": 1, "porositty": 0.3}}, "unknown keys"),
    ],
)
def test_bad_twin_section_is_refused_saying_what_to_write(sample: dict, message: str) -> None:
    with pytest.raises(InstrumentError, match=message):
        Phantom.from_sample(sample)


def test_sample_section_sets_seed_and_porosity() -> None:
    phantom = Phantom.from_sample({"twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.35}})
    assert (phantom.seed, phantom.porosity) == (811, 0.35)
    assert abs(phantom.statistics.pore_fraction - 0.35) < 1e-9
    default = Phantom.from_sample({"twin": {"phantom": "nmc811", "seed": 811}})
    assert default.porosity == PhantomParameters().default_porosity


def test_a_porosity_the_composition_cannot_reach_is_refused_naming_the_composition() -> None:
    # 8:1:1 with a half-porous binder: particles and binder alone leave at least ~0.29 porosity
    with pytest.raises(InstrumentError, match=r"too low for the electrode's composition.*0\.29"):
        Phantom.from_sample({"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.25}})
