"""Secondary particles: a Boolean model of ellipsoids, generated lazily cell by cell.

Why lazy cells: the phantom must be unbounded and any region reproducible without holding a
voxel volume. Space is tiled in cubes; the content of cube (ix, iy, iz) is drawn from a generator
seeded by (phantom seed, ix, iy, iz) alone, so a region evaluates to the same particles whatever
was evaluated before. Centres are a homogeneous Poisson process, so the union of particles is a
Boolean model whose phase fractions are exact (:mod:`fibsims_twin.calibration`).

Shapes: each particle has an equivalent-sphere radius R (lognormal around 5.22 um, physics.md);
a share of them are prolate with an aspect e (physics.md: elongated agglomerates), semi-axes
(R e^-1/3, R e^-1/3, R e^2/3), and every particle gets a small volume-preserving triaxial
scatter; orientations are uniform. The carbon-binder rule uses the particle grown by the neck
reach delta on each semi-axis (the "dilated" ellipsoid).

A particle is stored as one row: centre, the quadratic forms Q (particle) and D (dilated) with
x in the ellipsoid iff (x - c)^T Q (x - c) < 1, the half-extents of the dilated ellipsoid, mean
Li content, core-shell gradient, its radial crack planes and a stable id.
"""

from __future__ import annotations

from collections import OrderedDict
from math import floor

import numpy as np
from scipy import special

from fibsims_twin.hashing import hash_keys
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
N_COLUMNS = 34
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


class ParticleField:
    """Particles of the phantom, generated per cubic cell on demand and cached."""

    def __init__(
        self,
        seed: int,
        intensity_per_um3: float,
        p: PhantomParameters,
        micro: MicrostructureParameters,
    ) -> None:
        self.seed = int(seed)
        self.intensity_per_um3 = intensity_per_um3
        self.p = p
        self.micro = micro
        self._cache: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()

    def cell(self, ix: int, iy: int, iz: int) -> np.ndarray:
        """The particles whose centres lie in cell (ix, iy, iz): an (n, N_COLUMNS) table."""
        key = (ix, iy, iz)
        table = self._cache.get(key)
        if table is not None:
            self._cache.move_to_end(key)
            return table
        table = self._generate(ix, iy, iz)
        self._cache[key] = table
        if len(self._cache) > self.p.cell_cache_size:
            self._cache.popitem(last=False)
        return table

    def _generate(self, ix: int, iy: int, iz: int) -> np.ndarray:
        p = self.p
        rng = keyed_generator(self.seed, CELL_STREAM, ix, iy, iz)
        size = p.cell_size_um
        n = int(rng.poisson(self.intensity_per_um3 * size**3))
        table = np.empty((n, N_COLUMNS))
        table[:, CX : CZ + 1] = (np.array([ix, iy, iz]) + rng.random((n, 3))) * size
        radius = clip_radius(
            median_radius_um(p) * np.exp(p.radius_log_sigma * rng.standard_normal(n)), p
        )
        axes = radius[:, None] * shape_factors(rng, n, p)
        rotation = random_rotations(rng, n)
        dilated = axes + p.cbd_neck_reach_um
        table[:, Q_COLUMNS] = quadratic_form(axes, rotation)
        table[:, D_COLUMNS] = quadratic_form(dilated, rotation)
        table[:, EXTENT] = half_extents(dilated, rotation)
        soc = p.soc_mean + p.soc_sigma * rng.standard_normal(n)
        table[:, SOC] = np.clip(soc, p.soc_min, p.soc_max)
        table[:, SOC_GRADIENT] = p.soc_gradient_sigma * rng.standard_normal(n)
        planes, normals = crack_planes(rng, n, self.micro)
        table[:, CRACK_PLANES] = planes
        table[:, PLANE_NORMALS] = normals
        uid = hash_keys(self.seed, UID_STREAM, ix, iy, iz, np.arange(n)) >> UID_SHIFT
        table[:, UID] = uid.astype(np.float64)
        return table

    def near_plane(
        self, z_um: float, x_range: tuple[float, float], y_range: tuple[float, float]
    ) -> np.ndarray:
        """Particles whose dilated ellipsoid crosses the plane z inside the x/y window."""
        size = self.p.cell_size_um
        margin = max_semi_axis_um(self.p) + self.p.cbd_neck_reach_um
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
