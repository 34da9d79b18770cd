"""Secondary particles: a packing of ellipsoids that touch and never overlap, generated lazily
cell by cell.

Why lazy cells: the phantom must be unbounded and any region reproducible without holding a
voxel volume. Space is tiled in cubes; the candidates of cube (ix, iy, iz) are drawn from a
generator seeded by (phantom seed, ix, iy, iz) alone (a Poisson number, uniform centres). Each
cube's candidates are then relaxed together with its neighbours' candidates within
``packing_halo_um`` (:func:`fibsims_twin.packing.relax`), and the cube keeps its own relaxed
centres; finally every particle is shrunk to contact with its relaxed neighbours
(:func:`fibsims_twin.packing.contact_scales`), so no two particles overlap anywhere and mutual
nearest pairs touch. Every step reads a fixed neighbourhood of cubes, so a cube comes out the
same whichever cubes were evaluated before (and in whatever order).

Shapes: each candidate has an equivalent-sphere radius R (lognormal, docs/physics.md); a share of
them are prolate with an aspect e (docs/physics.md: elongated agglomerates), semi-axes
(R e^-1/3, R e^-1/3, R e^2/3), and every one gets a small volume-preserving triaxial scatter;
orientations are uniform. The contact scale shrinks all semi-axes of a particle alike. The
carbon-binder rule uses the particle grown by the binder reaches on each semi-axis (the
"dilated" ellipsoids, :mod:`fibsims_twin.binder`).

A particle is stored as one row: centre, the quadratic forms Q (particle), D (grown by the neck
reach) and S (grown by the surface reach) with x in the ellipsoid iff (x - c)^T Q (x - c) < 1,
the half-extents of the larger dilated ellipsoid, mean Li content, core-shell gradient, its
radial crack planes, a stable id and its equivalent radius after the contact scale.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from math import floor

import numpy as np
from scipy import special

from fibsims_twin.hashing import hash_keys
from fibsims_twin.packing import contact_scales, relax, support_matrices
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.rng import keyed_generator

CELL_STREAM = "phantom.cells"
UID_STREAM = "phantom.particle_uid"
UID_SHIFT = np.uint64(11)  # 53-bit ids are exact in float64

CX, CY, CZ = 0, 1, 2
Q_COLUMNS = slice(3, 9)  # Qxx, Qxy, Qxz, Qyy, Qyz, Qzz
D_COLUMNS = slice(9, 15)  # the same for the dilated ellipsoid
EXTENT = slice(15, 18)  # half-extents of the dilated ellipsoid along x, y, z
SOC, SOC_GRADIENT, CRACK_PLANES, UID = 18, 19, 20, 21  # CRACK_PLANES: how many are used
PLANE_NORMALS = slice(22, 34)  # up to four unit normals of radial crack planes, (n1, n2, ...)
S_COLUMNS = slice(34, 40)  # the form grown by the (shorter) surface reach of the binder
RADIUS = 40  # equivalent-sphere radius after the contact scale (um)
N_COLUMNS = 41
MAX_CRACK_PLANES = 4  # columns reserved in the table
JITTER_CLIP_SIGMAS = 2.5  # triaxial scatter clipped here, which bounds the particle size


def quadratic_form(axes: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(n, 6) upper triangle of R diag(1/a^2) R^T for semi-axes (n, 3) and rotations (n, 3, 3)."""
    full = np.einsum("nik,nk,njk->nij", rotation, 1.0 / axes**2, rotation)
    return full[:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]]


def half_extents(axes: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(n, 3) half-extents along x, y, z: sqrt(diag(R diag(a^2) R^T))."""
    return np.sqrt(np.einsum("nik,nk->ni", rotation**2, axes**2))


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform random rotations (Shoemake's quaternion method), (n, 3, 3)."""
    u1, u2, u3 = rng.random((3, n))
    a, b = np.sqrt(1.0 - u1), np.sqrt(u1)
    w, x, y, z = (
        b * np.cos(2 * np.pi * u3),
        a * np.sin(2 * np.pi * u2),
        a * np.cos(2 * np.pi * u2),
        b * np.sin(2 * np.pi * u3),
    )
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=1,
    )


def shape_factors(rng: np.random.Generator, n: int, p: PhantomParameters) -> np.ndarray:
    """Semi-axes over the equivalent radius (n, 3); the product of each row is 1."""
    elongated = rng.random(n) < p.elongated_fraction
    aspect = np.where(elongated, rng.uniform(p.elongation_min, p.elongation_max, n), 1.0)
    factors = np.stack([aspect ** (-1 / 3), aspect ** (-1 / 3), aspect ** (2 / 3)], axis=1)
    jitter = np.clip(rng.standard_normal((n, 3)), -JITTER_CLIP_SIGMAS, JITTER_CLIP_SIGMAS)
    jitter = p.axis_jitter_sigma * (jitter - jitter.mean(axis=1, keepdims=True))
    return factors * np.exp(jitter)


def crack_planes(
    rng: np.random.Generator, n: int, micro: MicrostructureParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Number of radial crack planes per particle (Poisson, capped) and their unit normals."""
    count = np.minimum(rng.poisson(micro.crack_planes_mean, n), micro.crack_planes_max)
    normals = rng.standard_normal((n, MAX_CRACK_PLANES, 3))
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    return count.astype(np.float64), normals.reshape(n, 3 * MAX_CRACK_PLANES)


def clip_radius(radius: np.ndarray, p: PhantomParameters) -> np.ndarray:
    return np.clip(
        radius, p.radius_min_fraction * p.mean_radius_um, p.radius_max_fraction * p.mean_radius_um
    )


def median_radius_um(p: PhantomParameters) -> float:
    """Lognormal with the given mean: median = mean * exp(-sigma^2 / 2)."""
    return p.mean_radius_um * float(np.exp(-0.5 * p.radius_log_sigma**2))


def radius_quantiles(p: PhantomParameters, n: int) -> np.ndarray:
    """Radii at evenly spaced quantiles: a deterministic quadrature of the radius law."""
    u = (np.arange(n) + 0.5) / n
    return clip_radius(median_radius_um(p) * np.exp(p.radius_log_sigma * special.ndtri(u)), p)


def max_semi_axis_um(p: PhantomParameters) -> float:
    """An upper bound of any semi-axis: bounds the search for particles near a plane."""
    longest = p.elongation_max ** (2 / 3) * np.exp(2 * JITTER_CLIP_SIGMAS * p.axis_jitter_sigma)
    return p.radius_max_fraction * p.mean_radius_um * float(longest)


def check_cell_size(p: PhantomParameters) -> None:
    """Two particles whose cells are not neighbours can never meet: the cell must exceed two
    of the largest semi-axis plus two of the largest relaxation shift."""
    reach = 2.0 * max_semi_axis_um(p) + 2.0 * p.packing_max_shift_um
    if p.cell_size_um < reach or p.packing_halo_um > p.cell_size_um:
        raise ValueError(
            f"cell_size_um {p.cell_size_um} must be at least {reach:.1f} (two of the largest "
            "semi-axis and of the relaxation shift) and at least packing_halo_um"
        )


@dataclass(frozen=True)
class Candidates:
    """The raw draw of one cell: centres (n, 3), semi-axes (n, 3), rotations (n, 3, 3) and the
    rows of the particle table that do not depend on the packing (``rest``: soc ... normals)."""

    centres: np.ndarray
    axes: np.ndarray
    rotation: np.ndarray
    rest: np.ndarray

    @property
    def forms(self) -> np.ndarray:
        return support_matrices(self.axes, self.rotation)

    @property
    def bound(self) -> np.ndarray:
        return self.axes.max(axis=1)


def draw_candidates(
    rng: np.random.Generator, n: int, origin_um: np.ndarray, size_um: float, p: PhantomParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres uniform in the cube at ``origin_um``, semi-axes and rotations of n candidates."""
    centres = origin_um + rng.random((n, 3)) * size_um
    radius = clip_radius(
        median_radius_um(p) * np.exp(p.radius_log_sigma * rng.standard_normal(n)), p
    )
    axes = radius[:, None] * shape_factors(rng, n, p)
    return centres, axes, random_rotations(rng, n)


class ParticleField:
    """Particles of the phantom, generated per cubic cell on demand and cached.

    ``neck_reach_um`` and ``surface_reach_um`` grow the particles into the forms the binder
    rule reads (D and S columns).
    """

    def __init__(
        self,
        seed: int,
        intensity_per_um3: float,
        p: PhantomParameters,
        micro: MicrostructureParameters,
        neck_reach_um: float = 0.0,
        surface_reach_um: float = 0.0,
    ) -> None:
        check_cell_size(p)
        self.seed = int(seed)
        self.intensity_per_um3 = intensity_per_um3
        self.p = p
        self.micro = micro
        self.neck_reach_um = float(neck_reach_um)
        self.surface_reach_um = float(surface_reach_um)
        self._cache: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._raw: OrderedDict[tuple[int, int, int], Candidates] = OrderedDict()
        self._relaxed: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()

    def _remember(self, cache: OrderedDict, key: tuple[int, int, int], value):
        cache[key] = value
        if len(cache) > self.p.cell_cache_size:
            cache.popitem(last=False)
        return value

    def candidates(self, ix: int, iy: int, iz: int) -> Candidates:
        """The raw draw of cell (ix, iy, iz): a pure function of (seed, cell)."""
        key = (ix, iy, iz)
        found = self._raw.get(key)
        if found is not None:
            return found
        p = self.p
        rng = keyed_generator(self.seed, CELL_STREAM, ix, iy, iz)
        size = p.cell_size_um
        n = int(rng.poisson(self.intensity_per_um3 * size**3))
        centres, axes, rotation = draw_candidates(rng, n, np.array(key) * size, size, p)
        rest = np.empty((n, N_COLUMNS))
        soc = p.soc_mean + p.soc_sigma * rng.standard_normal(n)
        rest[:, SOC] = np.clip(soc, p.soc_min, p.soc_max)
        rest[:, SOC_GRADIENT] = p.soc_gradient_sigma * rng.standard_normal(n)
        planes, normals = crack_planes(rng, n, self.micro)
        rest[:, CRACK_PLANES] = planes
        rest[:, PLANE_NORMALS] = normals
        uid = hash_keys(self.seed, UID_STREAM, ix, iy, iz, np.arange(n)) >> UID_SHIFT
        rest[:, UID] = uid.astype(np.float64)
        return self._remember(self._raw, key, Candidates(centres, axes, rotation, rest))

    def _neighbourhood(self, ix: int, iy: int, iz: int) -> list[tuple[int, int, int]]:
        return [
            (ix + a, iy + b, iz + c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
        ]

    def relaxed_centres(self, ix: int, iy: int, iz: int) -> np.ndarray:
        """Centres of cell (ix, iy, iz)'s candidates after relaxing them with the neighbours'
        candidates within the halo (the cell's own rows first, in draw order)."""
        key = (ix, iy, iz)
        found = self._relaxed.get(key)
        if found is not None:
            return found
        p = self.p
        own = self.candidates(ix, iy, iz)
        low = np.array(key) * p.cell_size_um - p.packing_halo_um
        high = low + p.cell_size_um + 2 * p.packing_halo_um
        parts = [own]
        for other in self._neighbourhood(ix, iy, iz):
            if other == key:
                continue
            c = self.candidates(*other)
            inside = np.all((c.centres >= low) & (c.centres < high), axis=1)
            parts.append(
                Candidates(c.centres[inside], c.axes[inside], c.rotation[inside], c.rest[inside])
            )
        centres = np.concatenate([c.centres for c in parts])
        forms = np.concatenate([c.forms for c in parts])
        bound = np.concatenate([c.bound for c in parts])
        moved = relax(centres, forms, bound, p.packing_rounds, p.packing_max_shift_um)
        return self._remember(self._relaxed, key, moved[: own.centres.shape[0]])

    def cell(self, ix: int, iy: int, iz: int) -> np.ndarray:
        """The particles drawn in cell (ix, iy, iz), packed: an (n, N_COLUMNS) table."""
        key = (ix, iy, iz)
        table = self._cache.get(key)
        if table is not None:
            self._cache.move_to_end(key)
            return table
        table = self._generate(ix, iy, iz)
        return self._remember(self._cache, key, table)

    def _generate(self, ix: int, iy: int, iz: int) -> np.ndarray:
        key = (ix, iy, iz)
        neighbours = self._neighbourhood(ix, iy, iz)
        neighbours.remove(key)
        cells = [key, *neighbours]  # the cell's own rows first
        raw = [self.candidates(*c) for c in cells]
        centres = np.concatenate([self.relaxed_centres(*c) for c in cells])
        forms = np.concatenate([c.forms for c in raw])
        bound = np.concatenate([c.bound for c in raw])
        n = raw[0].centres.shape[0]
        scale = contact_scales(centres, forms, bound, self.p.contact_flattening)[:n]
        return particle_table(centres[:n], raw[0], scale, self.neck_reach_um, self.surface_reach_um)

    def near_plane(
        self, z_um: float, x_range: tuple[float, float], y_range: tuple[float, float]
    ) -> np.ndarray:
        """Particles whose dilated ellipsoid crosses the plane z inside the x/y window."""
        size = self.p.cell_size_um
        margin = (
            max_semi_axis_um(self.p)
            + max(self.neck_reach_um, self.surface_reach_um)
            + self.p.packing_max_shift_um
        )
        ix = range(floor((x_range[0] - margin) / size), floor((x_range[1] + margin) / size) + 1)
        iy = range(floor((y_range[0] - margin) / size), floor((y_range[1] + margin) / size) + 1)
        iz = range(floor((z_um - margin) / size), floor((z_um + margin) / size) + 1)
        tables = [self.cell(i, j, k) for i in ix for j in iy for k in iz]
        table = np.concatenate(tables) if tables else np.empty((0, N_COLUMNS))
        extent = table[:, EXTENT]
        keep = (
            (np.abs(table[:, CZ] - z_um) < extent[:, 2])
            & (table[:, CX] + extent[:, 0] > x_range[0])
            & (table[:, CX] - extent[:, 0] < x_range[1])
            & (table[:, CY] + extent[:, 1] > y_range[0])
            & (table[:, CY] - extent[:, 1] < y_range[1])
        )
        return table[keep]


@lru_cache(maxsize=4)
def shared_field(
    seed: int,
    intensity_per_um3: float,
    p: PhantomParameters,
    micro: MicrostructureParameters,
    neck_reach_um: float,
    surface_reach_um: float,
) -> ParticleField:
    """One field per identity, shared by the phantoms of a process: its cells are pure
    functions of these arguments, and packing them is the slowest part of a first face."""
    return ParticleField(seed, intensity_per_um3, p, micro, neck_reach_um, surface_reach_um)


def particle_table(
    centres: np.ndarray,
    raw: Candidates,
    scale: np.ndarray,
    neck_reach_um: float,
    surface_reach_um: float,
) -> np.ndarray:
    """The table rows of packed particles: centres, contact-scaled forms and the binder's
    dilated forms."""
    table = raw.rest.copy()
    table[:, CX : CZ + 1] = centres
    axes = raw.axes * scale[:, None]
    rotation = raw.rotation
    table[:, Q_COLUMNS] = quadratic_form(axes, rotation)
    table[:, D_COLUMNS] = quadratic_form(axes + neck_reach_um, rotation)
    table[:, S_COLUMNS] = quadratic_form(axes + surface_reach_um, rotation)
    table[:, EXTENT] = half_extents(axes + max(neck_reach_um, surface_reach_um), rotation)
    table[:, RADIUS] = np.prod(axes, axis=1) ** (1.0 / 3.0)
    return table
