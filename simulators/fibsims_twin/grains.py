"""Primary grains: the Voronoi cells of seeds jittered in an irregular lattice, found without
a tree.

Why a lattice: a grain must be a fixed 3-D region (the same on every face that cuts it),
evaluated for a million pixels per face within milliseconds. With one seed per lattice cell,
placed by hashing (twin seed, cell) (:mod:`fibsims_twin.hashing`), the seed nearest to a point
lies among the 27 cells around it, so no search structure is needed.

Why irregular: a regular lattice makes the grain statistics periodic (a face cut on a lattice
plane sees up to 40 % more boundary than one between planes, and slices are often a tenth of a
grain apart). The lattice lines are therefore displaced at random (cell widths between
1 - irregularity/2 and 1 + irregularity/2 spacings), and every column of cells has its own
layer heights, so neither the stack of faces nor the pixels of one image meet a period.

For every point we keep the nearest and second-nearest seeds; the distance to their bisector
plane, b = (p - (s1 + s2) / 2) . (s1 - s2) / |s1 - s2|, is the exact 3-D distance to the grain
boundary between them (cracks and edge effects use it). b is signed: positive on the side of
the seed with the smaller key, so across a boundary it is one linear function of position.

Two evaluations share that definition:
- on a grid aligned with the lattice (``subdivisions`` nodes per cell and axis), vectorised by
  broadcasting per lattice cell instead of gathering per point, then carried to the pixels from
  the nearest node (:mod:`fibsims_twin.nodes`): b extended linearly with the pair's gradient
  (exact wherever the pixel's two nearest grains are the node's, i.e. except within a node
  pitch of a triple junction). This is the path for images and rasters.
- at arbitrary points (:func:`grains_at_points`), for coarse or scattered samples.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fibsims_twin.hashing import uniform

GRAIN_STREAM = "phantom.grain_seeds"
EDGE_STREAM = "phantom.grain_lattice_lines"
PHASE_STREAM = "phantom.grain_layer_phase"
KEY_BITS = 21  # per axis: lattice indices within +-2^20 (+-262 mm at 0.25 um)
KEY_OFFSET = 1 << (KEY_BITS - 1)
OFFSETS = tuple(itertools.product((-1, 0, 1), repeat=3))  # (dk, dj, di) of the 27 candidates
CANDIDATE_MASK = 0x1F  # low bits of a packed distance holding the candidate (27 < 32)


@dataclass(frozen=True)
class GrainLattice:
    """Seeds of the grains: one per cell of an irregular lattice, all placed by hashing.

    Columns (i, j) are bounded by lattice lines x_i and y_j displaced at random; each column is
    cut into layers by its own displaced z lines, so a face (z = const) meets the columns at
    unrelated heights and no face is special.
    """

    seed: int
    spacing_um: float
    jitter: float
    irregularity: float

    def _line(self, axis: int, index: np.ndarray, *column: np.ndarray) -> np.ndarray:
        shift = uniform(self.seed, EDGE_STREAM, axis, *column, index) - 0.5
        return (np.asarray(index) + self.irregularity * shift) * self.spacing_um

    def x_line(self, i: np.ndarray) -> np.ndarray:
        """Lower x edge (um) of column i."""
        return self._line(0, np.asarray(i, dtype=np.int64))

    def y_line(self, j: np.ndarray) -> np.ndarray:
        """Lower y edge (um) of column j."""
        return self._line(1, np.asarray(j, dtype=np.int64))

    def z_line(self, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Lower z edge (um) of layer k of column (i, j): the column's layers start at their
        own random phase, so planes of constant z meet the columns at unrelated heights."""
        phase = uniform(self.seed, PHASE_STREAM, i, j) * self.spacing_um
        return self._line(2, np.asarray(k, dtype=np.int64), i, j) + phase

    def _index(self, coordinate: np.ndarray, line) -> np.ndarray:
        """The cell between lines index and index + 1 holding each coordinate (lines lie within
        1.5 spacings of index * spacing, so two corrections each way suffice)."""
        c = np.asarray(coordinate, dtype=np.float64)
        index = np.floor(c / self.spacing_um).astype(np.int64)
        for _ in range(2):
            index = index - (c < line(index))
            index = index + (c >= line(index + 1))
        return index

    def column_of(self, x_um: np.ndarray, y_um: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The column (i, j) holding each point (int64)."""
        return self._index(x_um, self.x_line), self._index(y_um, self.y_line)

    def layer_of(self, i: np.ndarray, j: np.ndarray, z_um: np.ndarray) -> np.ndarray:
        """The layer of column (i, j) holding height ``z_um`` (int64)."""
        return self._index(z_um, lambda k: self.z_line(i, j, k))

    def seeds(self, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Seed positions (3, *S) in um of cells (i, j, k)."""
        bounds = (
            (self.x_line(i), self.x_line(np.asarray(i) + 1)),
            (self.y_line(j), self.y_line(np.asarray(j) + 1)),
            (self.z_line(i, j, k), self.z_line(i, j, np.asarray(k) + 1)),
        )
        out = []
        for axis, (low, high) in enumerate(bounds):
            u = uniform(self.seed, GRAIN_STREAM, i, j, k, axis)
            out.append(low + (0.5 + self.jitter * (u - 0.5)) * (high - low))
        return np.stack(out)

    @staticmethod
    def key(i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """One int64 per lattice cell (the grain's identity)."""
        i, j, k = (np.asarray(v, dtype=np.int64) + KEY_OFFSET for v in (i, j, k))
        return (i << (2 * KEY_BITS)) | (j << KEY_BITS) | k


@dataclass(frozen=True)
class GrainSample:
    """The two nearest seeds of a set of points (arrays of one shape ``S``).

    ``near_key``/``next_key`` int64; ``near_seed``/``next_seed`` (3, *S) float64 um in the
    phantom frame; ``signed_um`` float32, the distance to their bisector, + on the smaller key's
    side.
    """

    near_key: np.ndarray
    next_key: np.ndarray
    near_seed: np.ndarray
    next_seed: np.ndarray
    signed_um: np.ndarray


@dataclass(frozen=True)
class GrainGrid:
    """A :class:`GrainSample` on the node grid ``x_um`` (Wn,) by ``y_um`` (Hn,) at ``z_um``."""

    x_um: np.ndarray
    y_um: np.ndarray
    z_um: float
    sample: GrainSample


class _TwoNearest:
    """Running nearest and second-nearest candidate of every point, three passes per candidate.

    A non-negative float32 orders as its bit pattern, so each squared distance is packed with
    its candidate index in the 5 low mantissa bits (a relative rounding of 4e-6, which only
    decides near-ties, deterministically) and two unsigned minima keep the two smallest: the
    new second is min(second, max(first, d)), the new first min(first, d).
    """

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.first = np.full(shape, np.iinfo(np.uint32).max, dtype=np.uint32)
        self.second = np.full(shape, np.iinfo(np.uint32).max, dtype=np.uint32)
        self._between = np.empty(shape, dtype=np.uint32)

    def update(self, d: np.ndarray, candidate: int) -> None:
        """Offer squared distances ``d`` (float32, overwritten) of ``candidate`` (< 32)."""
        packed = d.view(np.uint32)
        packed &= np.uint32(~CANDIDATE_MASK & 0xFFFFFFFF)
        packed |= np.uint32(candidate)
        np.maximum(self.first, packed, out=self._between)
        np.minimum(self.second, self._between, out=self.second)
        np.minimum(self.first, packed, out=self.first)

    @property
    def c1(self) -> np.ndarray:
        return (self.first & CANDIDATE_MASK).astype(np.uint8)

    @property
    def c2(self) -> np.ndarray:
        return (self.second & CANDIDATE_MASK).astype(np.uint8)


def _signed_distance(
    point: np.ndarray, s1: np.ndarray, s2: np.ndarray, k1: np.ndarray, k2: np.ndarray
) -> np.ndarray:
    """Distance from ``point`` to the bisector plane of seeds s1 and s2 (all (3, ...) in um),
    (p - (s1 + s2) / 2) . (s1 - s2) / |s1 - s2|, positive on s1's side; then signed + on the
    side of the smaller key."""
    step = s1 - s2
    b = np.sum((point - 0.5 * (s1 + s2)) * step, axis=0) / np.sqrt(np.sum(step * step, axis=0))
    return np.where(k1 < k2, b, -b).astype(np.float32)


def grains_on_grid(
    lattice: GrainLattice,
    x_range_um: tuple[float, float],
    y_range_um: tuple[float, float],
    z_um: float,
    subdivisions: int,
) -> GrainGrid:
    """Nearest two seeds on the lattice-aligned grid of nodes that brackets the ranges.

    Each column holds ``subdivisions`` nodes per axis at fixed fractions of its width;
    candidates (the layer at the plane and the layers above and below, in the column and its
    eight neighbours) are broadcast per column (shape (m, m, NJ, NI)), so no per-node gather
    happens inside the loop. Distances are taken from the window's corner (float32 keeps them
    exact to well under a nanometre).
    """
    m = int(subdivisions)
    i_cells = _cells(lattice.x_line, x_range_um, lattice.spacing_um)
    j_cells = _cells(lattice.y_line, y_range_um, lattice.spacing_um)
    ni, nj = i_cells.size, j_cells.size
    # candidate seeds: columns one beyond the node columns, three layers around the plane
    i_axis = np.arange(i_cells[0] - 1, i_cells[-1] + 2)
    j_axis = np.arange(j_cells[0] - 1, j_cells[-1] + 2)
    jj, ii = np.meshgrid(j_axis, i_axis, indexing="ij")
    layer = lattice.layer_of(ii, jj, np.full(ii.shape, z_um))
    kk = layer[None] + np.arange(-1, 2)[:, None, None]  # (3, NJ + 2, NI + 2)
    # i and j as broadcastable axes: a column's x and y lines are hashed once per column, not
    # once per candidate (every hash and line is elementwise, so the seeds are the same bits)
    seeds = lattice.seeds(i_axis[None, None, :], j_axis[None, :, None], kk)
    keys = lattice.key(np.broadcast_to(ii, kk.shape), np.broadcast_to(jj, kk.shape), kk)
    fractions = (np.arange(m) + 0.5) / m
    node_x = _nodes(lattice.x_line, i_cells, fractions)  # (m, NI)
    node_y = _nodes(lattice.y_line, j_cells, fractions)  # (m, NJ)
    shape = (m, m, nj, ni)  # (row in cell, column in cell, cell row, cell column): long rows
    best = _TwoNearest(shape)
    d = np.empty(shape, dtype=np.float32)
    for c, (dk, dj, di) in enumerate(OFFSETS):
        window = (dk + 1, slice(1 + dj, 1 + dj + nj), slice(1 + di, 1 + di + ni))
        sx, sy, sz = (seeds[axis][window] for axis in range(3))
        # differences in float64 on the small factors, so a node's distances do not depend on
        # the window it is evaluated in; the full-size sum in float32
        dx2 = ((sx[None, None] - node_x[None, :, None, :]) ** 2).astype(np.float32)
        dyz2 = (sy[None, None] - node_y[:, None, :, None]) ** 2 + (sz - z_um)[None, None] ** 2
        np.add(dx2, dyz2.astype(np.float32), out=d)
        best.update(d, c)
    # seeds and keys of the chosen candidates, gathered straight from the candidate arrays:
    # candidate (dk, dj, di) of cell (cj, ci) is element (dk + 1, cj + 1 + dj, ci + 1 + di), so
    # its flat index is the candidate's offset plus the cell's base (no per-candidate copies)
    rows, cols = nj + 2, ni + 2
    offset = np.array([(dk + 1) * rows * cols + dj * cols + di for dk, dj, di in OFFSETS], np.intp)
    cell = (np.arange(1, nj + 1) * cols)[:, None] + np.arange(1, ni + 1)[None, :]  # (NJ, NI)
    base = np.repeat(np.repeat(cell, m, axis=0), m, axis=1)  # per node (NJ m, NI m)
    flat_seeds, flat_keys = seeds.reshape(3, -1), keys.reshape(-1)

    def as_nodes(values: np.ndarray) -> np.ndarray:
        """(m, m, NJ, NI) -> node grid (NJ m, NI m)."""
        return values.transpose(2, 0, 3, 1).reshape(nj * m, ni * m)

    def seeds_of(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = offset.take(as_nodes(chosen)) + base
        seed = np.stack([flat_seeds[axis].take(flat) for axis in range(3)])
        return seed, flat_keys.take(flat)

    s1, k1 = seeds_of(best.c1)
    s2, k2 = seeds_of(best.c2)
    gx, gy = np.meshgrid(node_x.T.reshape(-1), node_y.T.reshape(-1))
    nodes = np.stack([gx, gy, np.full(gx.shape, z_um)])
    signed = _signed_distance(nodes, s1, s2, k1, k2)
    return GrainGrid(
        node_x.T.reshape(-1), node_y.T.reshape(-1), float(z_um), GrainSample(k1, k2, s1, s2, signed)
    )


def _cells(line, range_um: tuple[float, float], spacing_um: float) -> np.ndarray:
    """Columns whose nodes bracket the range: one column beyond the one holding each end (lines
    are displaced by at most a quarter spacing, so its nodes reach half a spacing beyond)."""
    first = int(np.floor(range_um[0] / spacing_um)) - 1
    last = int(np.floor(range_um[1] / spacing_um)) + 1
    return np.arange(first, last + 1)


def _nodes(line, cells: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Node positions (m, n_cells): fixed fractions of each cell's width."""
    low, high = line(cells), line(cells + 1)
    return low[None, :] + fractions[:, None] * (high - low)[None, :]


def grains_at_points(lattice: GrainLattice, points_um: np.ndarray) -> GrainSample:
    """Nearest two seeds of arbitrary points (N, 3) in the phantom frame."""
    p = np.asarray(points_um, dtype=np.float64)
    i, j = lattice.column_of(p[:, 0], p[:, 1])
    best = _TwoNearest((p.shape[0],))
    layers = {}
    for c, (dk, dj, di) in enumerate(OFFSETS):
        if (dj, di) not in layers:
            layers[dj, di] = lattice.layer_of(i + di, j + dj, p[:, 2])
        seed = lattice.seeds(i + di, j + dj, layers[dj, di] + dk)
        # the grid path's arithmetic: float32 of the x term plus float32 of the y and z terms
        dx2 = ((seed[0] - p[:, 0]) ** 2).astype(np.float32)
        dyz2 = ((seed[1] - p[:, 1]) ** 2 + (seed[2] - p[:, 2]) ** 2).astype(np.float32)
        best.update(dx2 + dyz2, c)

    def seeds_of(chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offset = np.asarray(OFFSETS)[chosen]
        ci, cj = i + offset[:, 2], j + offset[:, 1]
        layer = (
            np.choose(chosen, [layers[dj, di] + dk for dk, dj, di in OFFSETS], mode="raise")
            if p.shape[0]
            else np.zeros(0, dtype=np.int64)
        )
        return lattice.seeds(ci, cj, layer), lattice.key(ci, cj, layer)

    s1, k1 = seeds_of(best.c1)
    s2, k2 = seeds_of(best.c2)
    signed = _signed_distance(p.T, s1, s2, k1, k2)
    return GrainSample(k1, k2, s1, s2, signed)
