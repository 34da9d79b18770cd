"""Packing secondary particles: push overlapping candidates apart, then shrink them to contact.

Why: a calendered cathode is a packing of secondary particles that touch at contacts; they do
not interpenetrate (a Boolean model lets them, which puts a Li step through what the SE image
shows as one seamless particle). A dense random packing needs particles to move, not only to
shrink (shrinking a Poisson set to contact stalls near 20 vol %), so:

1. ``relax``: Jacobi rounds of pair pushes. Every pair whose supports along the line of centres
   overlap (h_i(u) + h_j(u) > d, h(u) = sqrt(u^T A u) the support function of the ellipsoid with
   A = R diag(a^2) R^T) is pushed apart by the overlap, the lighter one moving more. Each round
   sees only pairs in range, so after k rounds a particle depends only on candidates within
   k x range of it: the phantom relaxes each cell with a halo of its neighbours' candidates
   (:mod:`fibsims_twin.particles`), so a cell comes out the same whichever cell was asked first.
2. ``contact_scales``: each particle is scaled by s_i = min(1, min_j d_ij / ((1 - f)(h_i + h_j)))
   over its neighbours. For any pair, s_i h_i + s_j h_j <= d / (1 - f): the ellipsoids meet at
   most at a contact flattened by f of their supports, whatever residue the relaxation left,
   and a pair that limits both of its particles has exactly that contact. With f = 0 no two
   ellipsoids overlap at all (the plane perpendicular to the line of centres separates them),
   but local rules then stall near 41 vol % with these shapes (measured), below the ~44 % an
   8:1:1 electrode at 30 % porosity needs; a small f is the flattened contact of a calendered
   electrode. Where two ellipsoids meet, each point belongs to the one it lies deepest in
   (:meth:`fibsims_twin.sections.Sections.owner`), so the particles themselves are disjoint and
   share the contact facet.

Summation order is fixed by the pair order (sorted), so the arithmetic is the same for the same
candidates wherever they were generated.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

LARGE_QUANTILE = 0.9  # particles above this quantile of the bounds get their own pair query
SUPPORT_INDEX = ([0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2])  # upper triangle of A, as the Q forms
PRUNE_MARGIN_UM = 1e-6  # pairs this close to reach stay in a round (far above rounding)


def support_matrices(axes: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(n, 6) upper triangle of A = R diag(a^2) R^T: h(u) = sqrt(u^T A u) is the support."""
    full = np.einsum("nik,nk,njk->nij", rotation, axes**2, rotation)
    return full[:, SUPPORT_INDEX[0], SUPPORT_INDEX[1]]


def supports(forms: np.ndarray, u: np.ndarray) -> np.ndarray:
    """h(u) = sqrt(u^T A u) of forms (n, 6) along unit vectors u (n, 3)."""
    axx, axy, axz, ayy, ayz, azz = forms.T
    x, y, z = u.T
    value = axx * x * x + ayy * y * y + azz * z * z + 2 * (axy * x * y + axz * x * z + ayz * y * z)
    return np.sqrt(value)


def _pairs(
    centres: np.ndarray, bound: np.ndarray, slack_um: float, box_um: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j, sorted) whose bounding spheres come within ``slack_um`` of meeting."""
    if centres.shape[0] < 2:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    tree = cKDTree(centres, boxsize=box_um)
    # most particles are far smaller than the largest: pairs of two typical ones from one
    # query, pairs with a large one from a query per large particle
    typical = float(np.quantile(bound, LARGE_QUANTILE))
    typical_pairs = tree.query_pairs(2.0 * typical + slack_um, output_type="ndarray")
    # the large ones' pairs within the largest reach of a large one: a superset of the pairs
    # each could meet, all in one call (the distance test below keeps those in reach)
    large = np.flatnonzero(bound > typical)
    found = cKDTree(centres[large], boxsize=box_um).sparse_distance_matrix(
        tree, 2.0 * float(bound.max()) + slack_um, output_type="ndarray"
    )
    k, others = large[found["i"]], found["j"].astype(np.intp)
    k, others = k[others != k], others[others != k]
    # one int64 key per pair (i < j); sorting the keys and dropping repeats orders the pairs
    # by (i, j) as a lexsort of the unique rows would, many times faster
    n = np.int64(centres.shape[0])
    key = np.concatenate(
        [
            typical_pairs[:, 0].astype(np.int64) * n + typical_pairs[:, 1],
            np.minimum(others, k).astype(np.int64) * n + np.maximum(others, k),
        ]
    )
    key.sort()
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key = key[first]
    i, j = (key // n).astype(np.intp), (key % n).astype(np.intp)
    distance = np.sqrt(np.einsum("ni,ni->n", *(2 * [_steps(centres, i, j, box_um)])))
    near = distance < bound[i] + bound[j] + slack_um
    return i[near], j[near]


def _steps(centres: np.ndarray, i: np.ndarray, j: np.ndarray, box_um: float | None) -> np.ndarray:
    step = np.take(centres, i, axis=0) - np.take(centres, j, axis=0)  # take: faster than [i]
    if box_um is not None:
        step -= box_um * np.round(step / box_um)
    return step


def _geometry(
    centres: np.ndarray, i: np.ndarray, j: np.ndarray, box_um: float | None
) -> tuple[np.ndarray, np.ndarray]:
    step = _steps(centres, i, j, box_um)
    distance = np.sqrt(np.einsum("ni,ni->n", step, step))
    return distance, step / np.maximum(distance, 1e-12)[:, None]


def relax(
    centres: np.ndarray,
    forms: np.ndarray,
    bound: np.ndarray,
    rounds: int,
    max_shift_um: float,
    box_um: float | None = None,
) -> np.ndarray:
    """Centres (n, 3) after ``rounds`` Jacobi rounds of pair pushes.

    ``forms``: support matrices (n, 6); ``bound``: bounding radii (n,); a particle moves at
    most ``max_shift_um`` from where it started (which bounds how far a cell's particles stray,
    and lets one list of pairs, those within reach of meeting after the largest shifts, serve
    every round); ``box_um``: a periodic cube of that side (the calibration's reference).
    """
    start = np.array(centres, dtype=np.float64)
    now = start.copy()
    n = now.shape[0]
    i, j = _pairs(start, bound, 2.0 * max_shift_um, box_um)
    volume = bound**3  # only the ratio matters: the lighter one moves more
    share_i = volume[j] / (volume[i] + volume[j])
    share_j = 1.0 - share_i
    forms_i, forms_j = forms[i], forms[j]  # the same in every round: gathered once
    # a pair can overlap only if its centres are closer than its bounds: they are at least
    # their starting distance less how far each has moved apart, so the others (most of the
    # list) are skipped; their push would be exactly 0 and adds nothing to any sum
    start_distance = _geometry(start, i, j, box_um)[0]
    reach = bound[i] + bound[j] + PRUNE_MARGIN_UM
    length = np.zeros(n)
    for _ in range(rounds):
        active = np.flatnonzero(start_distance - length[i] - length[j] < reach)
        ai, aj = i[active], j[active]
        distance, u = _geometry(now, ai, aj, box_um)
        overlap = supports(forms_i[active], u) + supports(forms_j[active], u) - distance
        overlap = np.maximum(overlap, 0.0)
        if not overlap.any():
            break
        shift = np.empty_like(now)
        for axis in range(3):
            push = overlap * u[:, axis]
            shift[:, axis] = np.bincount(ai, push * share_i[active], n) - np.bincount(
                aj, push * share_j[active], n
            )
        now += shift
        moved = now - start
        length = np.sqrt(np.einsum("ni,ni->n", moved, moved))
        too_far = length > max_shift_um
        now[too_far] = start[too_far] + moved[too_far] * (max_shift_um / length[too_far])[:, None]
        if box_um is not None:
            now %= box_um
    return now


def contact_scales(
    centres: np.ndarray,
    forms: np.ndarray,
    bound: np.ndarray,
    flattening: float,
    box_um: float | None = None,
) -> np.ndarray:
    """Scale s_i <= 1 of each particle so that no pair interpenetrates by more than
    ``flattening`` of its supports along the line of centres (see the module docstring)."""
    scale = np.ones(centres.shape[0])
    i, j = _pairs(centres, bound, 0.0, box_um)
    distance, u = _geometry(centres, i, j, box_um)
    ratio = distance / ((1.0 - flattening) * (supports(forms[i], u) + supports(forms[j], u)))
    np.minimum.at(scale, i, ratio)
    np.minimum.at(scale, j, ratio)
    return scale
