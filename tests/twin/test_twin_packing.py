"""The phantom's packing of secondary particles and its nanoporous binder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims_twin.binder import BinderTexture
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.particles import CX, CZ, N_COLUMNS, Q_COLUMNS, ParticleField

INTENSITY_PER_UM3 = 7.3e-4  # about what porosity 0.30 calibrates to


def _forms(table: np.ndarray) -> np.ndarray:
    q = np.zeros((table.shape[0], 3, 3))
    q[:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]] = table[:, Q_COLUMNS]
    return q + np.triu(q, 1).transpose(0, 2, 1)


def _packed(p: PhantomParameters, seed: int = 3) -> np.ndarray:
    field = ParticleField(seed, INTENSITY_PER_UM3, p, MicrostructureParameters())
    return np.concatenate([field.cell(i, j, 0) for i in range(2) for j in range(2)])


def _close_pairs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of particles closer than the sum of their longest semi-axes."""
    q = _forms(table)
    centre = table[:, CX : CZ + 1]
    longest = 1.0 / np.sqrt(np.linalg.eigvalsh(q)[:, 0])
    i, j = np.triu_indices(table.shape[0], 1)
    d = np.linalg.norm(centre[i] - centre[j], axis=1)
    near = d < longest[i] + longest[j]
    return i[near], j[near]


def _overlap_along_centre_lines(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every close pair (``_close_pairs``): the length of the line of centres inside both
    ellipsoids (um, 0 if none), the sum of their extents along it and the gap between them
    along it (um, 0 if they meet)."""
    q = _forms(table)
    centre = table[:, CX : CZ + 1]
    i, j = _close_pairs(table)
    d = np.linalg.norm(centre[i] - centre[j], axis=1)
    u = (centre[j] - centre[i]) / d[:, None]
    # extent of each ellipsoid along the line: 1 / sqrt(u^T Q u)
    reach_i = 1.0 / np.sqrt(np.einsum("ni,nij,nj->n", u, q[i], u))
    reach_j = 1.0 / np.sqrt(np.einsum("ni,nij,nj->n", u, q[j], u))
    inside_both = np.maximum(reach_i + reach_j - d, 0.0)
    gap = np.maximum(d - reach_i - reach_j, 0.0)
    return inside_both, reach_i + reach_j, gap


def test_no_two_particles_overlap_in_a_hard_packing_and_some_touch() -> None:
    hard = dataclasses.replace(PhantomParameters(), contact_flattening=0.0)
    table = _packed(hard)
    assert table.shape[0] > 200
    inside_both, _, gap = _overlap_along_centre_lines(table)
    assert inside_both.max() < 1e-9  # no pair shares a point on its line of centres
    # and none shares any point: sample around each close pair's contact densely
    rng = np.random.default_rng(0)
    q, centre = _forms(table), table[:, CX : CZ + 1]
    i, j = _close_pairs(table)
    close = gap < 0.05
    assert close.sum() > 20
    for a, b in zip(i[close], j[close], strict=True):
        middle = 0.5 * (centre[a] + centre[b])
        points = middle + 6.0 * (rng.random((2000, 3)) - 0.5)
        both = np.ones(points.shape[0], dtype=bool)
        for k in (a, b):
            step = points - centre[k]
            both &= np.einsum("pi,ij,pj->p", step, q[k], step) < 1.0
        assert not both.any()
    # pairs that limit each other touch the plane between them from both sides; for spheres
    # that is a contact: a share of the particles have a neighbour within 1 nm
    spheres = _packed(dataclasses.replace(hard, elongated_fraction=0.0, axis_jitter_sigma=0.0))
    _, _, gap = _overlap_along_centre_lines(spheres)
    i, j = _close_pairs(spheres)
    touching = np.unique(np.concatenate([i[gap < 1e-3], j[gap < 1e-3]]))
    assert touching.size > 0.15 * spheres.shape[0]  # pairs across the four cells are missed


def test_contacts_are_flattened_by_at_most_the_contact_share() -> None:
    p = PhantomParameters()
    inside_both, extent, _ = _overlap_along_centre_lines(_packed(p))
    depth = inside_both / extent
    assert depth.max() <= p.contact_flattening + 1e-9
    # the packing is not a Boolean model: most pairs within reach meet at a shallow contact
    assert np.mean(depth[depth > 0] < 0.5 * p.contact_flattening + 0.05) > 0.5
    assert np.mean(depth > 0) > 0.05


def test_a_cell_is_identical_whichever_order_cells_are_generated() -> None:
    p = PhantomParameters()
    micro = MicrostructureParameters()
    cells = [(0, 0, 0), (1, 0, 0), (0, 1, -1), (-1, 2, 0)]
    forward = ParticleField(11, INTENSITY_PER_UM3, p, micro)
    first = {c: forward.cell(*c) for c in cells}
    # a cache of 2 holds less than one cell's neighbourhood (27 cells): every cell below is
    # generated with its neighbours evicted and redrawn in between, after a distant cell
    tiny = dataclasses.replace(p, cell_cache_size=2)
    backward = ParticleField(11, INTENSITY_PER_UM3, tiny, micro)
    backward.cell(3, 0, 0)
    for c in reversed(cells):
        table = backward.cell(*c)
        assert table.shape[1] == N_COLUMNS
        np.testing.assert_array_equal(table, first[c])


def test_binder_texture_is_nanoporous_at_the_stated_porosity_and_scale() -> None:
    p = PhantomParameters()
    texture = BinderTexture(5, p)
    axis = np.arange(0.0, 5.0, 0.013)
    solid = texture.solid(axis, axis, 1.0)
    assert np.mean(solid) == pytest.approx(1.0 - p.cbd_nanoporosity, abs=0.03)
    # smooth at a pixel (13 nm), uncorrelated beyond a few correlation lengths (0.5 um)
    same_next = np.mean(solid[:, 1:] == solid[:, :-1])
    same_far = np.mean(solid[:, 40:] == solid[:, :-40])
    assert same_next > 0.8
    assert same_far == pytest.approx(0.5, abs=0.05)
    points = np.column_stack([axis, np.full(axis.size, 2.0), np.full(axis.size, 1.0)])
    np.testing.assert_array_equal(
        texture.solid_at_points(points), texture.solid(axis, np.array([2.0]), 1.0)[0]
    )
