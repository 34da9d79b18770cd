"""A Boolean model of spheres (secondary particles), generated lazily cell by cell.

Why lazy cells: the phantom must be unbounded and any region reproducible without holding a
voxel volume. Space is tiled in cubes; the content of cube (ix, iy, iz) is drawn from a generator
seeded by (phantom seed, ix, iy, iz) alone, so a region evaluates to the same spheres whatever
was evaluated before. Sphere centres form a homogeneous Poisson process (Poisson count per cube,
uniform positions), so the union of spheres is a Boolean model whose statistics are exact:

    P(point is covered by no sphere)            = exp(-lambda E[V(R)])
    P(no sphere, <= 1 sphere dilated by delta)  = exp(-lambda E[V(R + delta)]) (1 + lambda E[dV])

with dV = V(R + delta) - V(R). The second line is the pore fraction once the carbon-binder domain
(pore points within delta of two particles) is taken out; :func:`calibrate_intensity` solves it
for lambda so the pore fraction equals the recipe's target.

Each sphere carries: centre (x, y, z), radius R, mean Li content x and core-shell gradient.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from math import floor

import numpy as np
from scipy import optimize, special

from fibsims_twin.parameters import PhantomParameters
from fibsims_twin.rng import keyed_generator

CELL_STREAM = "phantom.cells"

# Columns of a sphere table
CX, CY, CZ, RADIUS, SOC, SOC_GRADIENT = range(6)
N_COLUMNS = 6


def _sphere_volume(radius: np.ndarray) -> np.ndarray:
    return 4.0 / 3.0 * np.pi * radius**3


def _radius_median_um(p: PhantomParameters) -> float:
    # lognormal with the given mean: median = mean * exp(-sigma^2 / 2)
    return p.mean_radius_um * float(np.exp(-0.5 * p.radius_log_sigma**2))


def _clip_radius(radius: np.ndarray, p: PhantomParameters) -> np.ndarray:
    return np.clip(
        radius, p.radius_min_fraction * p.mean_radius_um, p.radius_max_fraction * p.mean_radius_um
    )


def max_radius_um(p: PhantomParameters) -> float:
    return p.radius_max_fraction * p.mean_radius_um


def radius_quantiles(p: PhantomParameters) -> np.ndarray:
    """Radii at evenly spaced quantiles: a deterministic quadrature of the radius law."""
    u = (np.arange(p.radius_quadrature_points) + 0.5) / p.radius_quadrature_points
    return _clip_radius(_radius_median_um(p) * np.exp(p.radius_log_sigma * special.ndtri(u)), p)


@dataclass(frozen=True)
class BooleanStatistics:
    """Intensity and the expected volume fractions of the phases it produces."""

    intensity_per_um3: float
    pore_fraction: float
    nmc_fraction: float
    cbd_fraction: float


def calibrate_intensity(target_pore_fraction: float, p: PhantomParameters) -> BooleanStatistics:
    """The sphere intensity whose pore fraction (CBD excluded) equals the target."""
    radii = radius_quantiles(p)
    mean_volume = float(np.mean(_sphere_volume(radii)))
    shell_volume = float(np.mean(_sphere_volume(radii + p.cbd_neck_reach_um))) - mean_volume

    def pore(lam: float) -> float:
        return float(np.exp(-lam * (mean_volume + shell_volume)) * (1.0 + lam * shell_volume))

    upper = 1.0 / mean_volume
    while pore(upper) > target_pore_fraction:
        upper *= 2.0
    lam = float(optimize.brentq(lambda v: pore(v) - target_pore_fraction, 0.0, upper, xtol=1e-14))
    mu_solid = lam * mean_volume
    mu_shell = lam * shell_volume
    empty = float(np.exp(-mu_solid))
    cbd = empty * (1.0 - float(np.exp(-mu_shell)) * (1.0 + mu_shell))
    return BooleanStatistics(lam, pore(lam), 1.0 - empty, cbd)


class SphereField:
    """Spheres of the phantom, generated per cubic cell on demand and cached."""

    def __init__(self, seed: int, intensity_per_um3: float, p: PhantomParameters) -> None:
        self.seed = int(seed)
        self.intensity_per_um3 = intensity_per_um3
        self.p = p
        self._cache: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()

    def cell(self, ix: int, iy: int, iz: int) -> np.ndarray:
        """The spheres whose centres lie in cell (ix, iy, iz): an (n, 6) table."""
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
        median = _radius_median_um(p)
        table[:, RADIUS] = _clip_radius(
            median * np.exp(p.radius_log_sigma * rng.standard_normal(n)), p
        )
        soc = p.soc_mean + p.soc_sigma * rng.standard_normal(n)
        table[:, SOC] = np.clip(soc, p.soc_min, p.soc_max)
        table[:, SOC_GRADIENT] = p.soc_gradient_sigma * rng.standard_normal(n)
        return table

    def near_plane(
        self,
        z_um: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        reach_um: float,
    ) -> np.ndarray:
        """Spheres that come within ``reach_um`` of the plane z inside the x/y window."""
        size = self.p.cell_size_um
        margin = max_radius_um(self.p) + reach_um
        ix = range(floor((x_range[0] - margin) / size), floor((x_range[1] + margin) / size) + 1)
        iy = range(floor((y_range[0] - margin) / size), floor((y_range[1] + margin) / size) + 1)
        iz = range(floor((z_um - margin) / size), floor((z_um + margin) / size) + 1)
        tables = [self.cell(i, j, k) for i in ix for j in iy for k in iz]
        spheres = np.concatenate(tables) if tables else np.empty((0, N_COLUMNS))
        r = spheres[:, RADIUS] + reach_um
        keep = (
            (np.abs(spheres[:, CZ] - z_um) < r)
            & (spheres[:, CX] + r > x_range[0])
            & (spheres[:, CX] - r < x_range[1])
            & (spheres[:, CY] + r > y_range[0])
            & (spheres[:, CY] - r < y_range[1])
        )
        return spheres[keep]
