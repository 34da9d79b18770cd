"""The NMC811 phantom: porosity, phases, Li field, composition, determinism and speed."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from fibsims.instrument import InstrumentError
from fibsims_twin.materials import ELEMENTS, Material
from fibsims_twin.parameters import PhantomParameters
from fibsims_twin.phantom import MEAN_RHO2_IN_BALL, Phantom
from fibsims_twin.spheres import CX, CY, CZ, RADIUS, SOC, SOC_GRADIENT

# wide faces, coarse pixels: the pore fraction of one 20 x 15 um face swings by +-0.3 because a
# particle is ~10 um across; the phantom's statistics are checked on faces 300 um wide
WIDE_AXIS_UM = np.arange(-150.0, 150.0, 0.25)
WIDE_FACES_Z_UM = (0.0, 60.0, 120.0, 180.0)


def wide_faces(phantom: Phantom) -> list:
    return [phantom.face(z, WIDE_AXIS_UM, WIDE_AXIS_UM) for z in WIDE_FACES_Z_UM]


def image_axes(width: int = 1536, height: int = 1024, field_um: float = 20.0):
    pitch = field_um / width
    return (
        (np.arange(width) + 0.5 - width / 2) * pitch,
        (np.arange(height) + 0.5 - height / 2) * pitch,
    )


@pytest.mark.parametrize("target", [0.30, 0.40])
def test_pore_fraction_of_faces_matches_the_target_porosity(target: float) -> None:
    faces = wide_faces(Phantom(seed=811, porosity=target))
    measured = [face.phase_fraction(Material.PORE) for face in faces]
    assert all(abs(m - target) <= 0.03 for m in measured), measured
    assert abs(np.mean(measured) - target) <= 0.015, measured


def test_cbd_fills_the_necks_at_the_boolean_model_fraction() -> None:
    phantom = Phantom(seed=3, porosity=0.30)
    measured = np.mean([face.phase_fraction(Material.CBD) for face in wide_faces(phantom)])
    assert 0.02 < phantom.statistics.cbd_fraction < 0.10
    assert abs(measured - phantom.statistics.cbd_fraction) <= 0.01


def test_phantom_is_deterministic_per_seed() -> None:
    x, y = image_axes(384, 256)
    a = Phantom(seed=811, porosity=0.3).face(0.5, x, y)
    b = Phantom(seed=811, porosity=0.3).face(0.5, x, y)
    c = Phantom(seed=812, porosity=0.3).face(0.5, x, y)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.li_fraction, b.li_fraction)
    assert np.mean(a.labels != c.labels) > 0.05


def test_phantom_is_independent_of_evaluation_order_and_cache() -> None:
    x, y = image_axes(384, 256)
    tiny_cache = dataclasses.replace(PhantomParameters(), cell_cache_size=4)
    first = Phantom(seed=9, porosity=0.3).face(2.0, x, y)
    busy = Phantom(seed=9, porosity=0.3, parameters=tiny_cache)
    for z in (500.0, -300.0, 2.0, 40.0):  # evict and regenerate cells in between
        busy.face(z, x + 1000.0, y)
    again = busy.face(2.0, x, y)
    np.testing.assert_array_equal(first.labels, again.labels)
    np.testing.assert_array_equal(first.soc, again.soc)


def test_a_window_of_a_face_equals_the_same_pixels_of_a_larger_face() -> None:
    phantom = Phantom(seed=4, porosity=0.3)
    x, y = image_axes(512, 384, field_um=40.0)
    whole = phantom.face(1.0, x, y)
    part = phantom.face(1.0, x[100:300], y[50:200])
    np.testing.assert_array_equal(part.labels, whole.labels[50:200, 100:300])
    np.testing.assert_array_equal(part.li_fraction, whole.li_fraction[50:200, 100:300])


def test_li_fraction_is_x_over_x_plus_3_in_nmc_and_zero_elsewhere() -> None:
    p = PhantomParameters()
    x, y = image_axes(384, 256, field_um=40.0)
    face = Phantom(seed=1, porosity=0.3).face(3.0, x, y)
    nmc = face.labels == Material.NMC811
    assert nmc.any() and (~nmc).any()
    soc = face.soc[nmc]
    assert soc.min() >= p.soc_min and soc.max() <= p.soc_max
    np.testing.assert_allclose(face.li_fraction[nmc], soc / (soc + 3.0), rtol=1e-6)
    assert np.all(face.li_fraction[~nmc] == 0)
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
    # CBD = carbon black + PVDF 1:1 by mass: H = F = 2 per C2H2F2 monomer, no O
    np.testing.assert_allclose(face.atomic_fraction("F")[cbd], face.atomic_fraction("H")[cbd])
    assert np.all(face.atomic_fraction("O")[cbd] == 0)
    assert np.all(face.atomic_fraction("F")[pore | nmc] == 0)  # fluorine marks the binder
    # NMC811: Ni / Mn = 8 and O / (Ni + Mn + Co) = 2 whatever the Li content
    ni, mn = face.atomic_fraction("Ni")[nmc], face.atomic_fraction("Mn")[nmc]
    np.testing.assert_allclose(ni / mn, 8.0, rtol=1e-5)
    metals = ni + mn + face.atomic_fraction("Co")[nmc]
    np.testing.assert_allclose(face.atomic_fraction("O")[nmc] / metals, 2.0, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown element"):
        face.atomic_fraction("Qx")


def _isolated_sphere(phantom: Phantom) -> np.ndarray:
    """A sphere whose inner half is owned by itself alone (no neighbour's power reaches it)."""
    table = np.concatenate(
        [
            phantom.spheres.cell(i, j, k)
            for i in range(6, 10)
            for j in range(2, 6)
            for k in range(9, 13)
        ]
    )
    for s in table:
        d2 = np.sum((table[:, CX : CZ + 1] - s[CX : CZ + 1]) ** 2, axis=1)
        others = table[d2 > 0]
        d2o = d2[d2 > 0]
        # every point within R/2 of the centre has own power >= 0.75 R^2 > any other power
        reach2 = others[:, RADIUS] ** 2 - (np.sqrt(d2o) - 0.5 * s[RADIUS]).clip(0) ** 2
        isolated = np.all(reach2 < 0.7 * s[RADIUS] ** 2)
        if isolated and 0.3 < s[SOC] < 0.9 and abs(s[SOC_GRADIENT]) > 0.03:
            return s
    raise AssertionError("no isolated sphere found")


def test_core_shell_gradient_follows_the_particle_radius() -> None:
    phantom = Phantom(seed=811, porosity=0.6)  # sparse: isolated particles exist
    s = _isolated_sphere(phantom)
    ox, oy, oz = phantom.parameters.origin_offset_um
    rho = np.array([0.0, 0.25, 0.5])
    x = s[CX] - ox + rho * s[RADIUS]
    face = phantom.face(s[CZ] - oz, x, np.array([s[CY] - oy]))
    expected = s[SOC] + s[SOC_GRADIENT] * (rho**2 - MEAN_RHO2_IN_BALL)
    np.testing.assert_allclose(face.soc[0], expected, atol=1e-5)


def test_full_image_face_evaluates_well_under_100_ms() -> None:
    phantom = Phantom(seed=811, porosity=0.3)
    x, y = image_axes()
    phantom.face(0.0, x, y)  # generate the cells once
    best = min(_timed(lambda z=z: phantom.face(z, x, y)) for z in (0.025, 0.05, 0.075))
    assert best < 0.1


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
    phantom = Phantom.from_sample({"twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.25}})
    assert (phantom.seed, phantom.porosity) == (811, 0.25)
    assert abs(phantom.statistics.pore_fraction - 0.25) < 1e-9
    default = Phantom.from_sample({"twin": {"phantom": "nmc811", "seed": 811}})
    assert default.porosity == PhantomParameters().default_porosity
