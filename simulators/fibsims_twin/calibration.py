"""Calibration: the candidate intensity and the binder reach that give the recipe's porosity
with the electrode's composition.

The target porosity p and the composition fix every phase (:mod:`fibsims_twin.binder`): the
active material is a (1 - p) of the volume, so the particles' envelopes (internal pores and
cracks included, a share f of them) fill phi = a (1 - p) / (1 - f); the CBD domain fills
c (1 - p) / (1 - eps). Two numbers of the phantom are chosen to match:

- the intensity of candidates whose packing (:mod:`fibsims_twin.packing`) fills phi. A packing
  has no closed form, so a reference packing is built once per parameter set: candidates in a
  periodic cube (fixed seed), thinned to a few intensities with common random numbers, each
  relaxed and shrunk to contact exactly as the phantom does; phi(intensity) is interpolated.
- the neck reach r of the binder: a pore point is CBD within r of two particles or within
  ``cbd_surface_reach_share`` x r of one, with r found by bisection so that points sampled in
  the reference packing give the CBD domain's share.

Porosity (the pore, label 0, fraction) then counts the epoxy in macropores, in the CBD's
nanopores and in the particles' internal pores and cracks: 1 - a (1 - p) - c (1 - p) = p.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from fibsims_twin.binder import solid_shares
from fibsims_twin.cracks import crack_volume_fraction
from fibsims_twin.packing import contact_scales, relax, support_matrices
from fibsims_twin.parameters import MicrostructureParameters, PhantomParameters
from fibsims_twin.particles import (
    draw_candidates,
    quadratic_form,
    radius_quantiles,
    shape_factors,
)
from fibsims_twin.pores import InternalPores
from fibsims_twin.result_cache import cache_key, load_floats, store_floats
from fibsims_twin.rng import keyed_generator

SHAPE_QUADRATURE_STREAM = "phantom.shape_quadrature"
SHAPE_QUADRATURE_SEED = 0
REFERENCE_STREAM = "phantom.reference_packing"
REFERENCE_SEED = 0  # the curve is a property of the parameters, not of one phantom
REFERENCE_NOMINAL_FRACTIONS = (0.15, 0.8)  # lambda E[V] spanned by the reference curve
REACH_POINTS = 12_000  # numerical: points sampled for the binder reach
REACH_BISECTIONS = 16  # numerical: halvings of the reach interval (to ~0.1 nm)
REACH_MAX_UM = 16.0  # numerical: the largest neck reach searched


@dataclass(frozen=True)
class PhaseStatistics:
    """Intensity, binder reaches and the volume fractions of the phases they produce."""

    intensity_per_um3: float
    pore_fraction: float
    nmc_fraction: float  # NMC solid (the envelopes less internal pores and cracks)
    cbd_fraction: float  # CBD solid (its domain less its nanopores)
    internal_pore_share: float  # of the particle volume: internal pores and cracks
    envelope_fraction: float  # the particles' envelopes
    cbd_domain_fraction: float
    neck_reach_um: float
    surface_reach_um: float


@lru_cache(maxsize=16)
def mean_volumes_um3(p: PhantomParameters) -> float:
    """E[V] of a candidate over the particle size and shape laws."""
    radii = radius_quantiles(p, p.shape_quadrature_points)
    rng = keyed_generator(SHAPE_QUADRATURE_SEED, SHAPE_QUADRATURE_STREAM)
    axes = radii[:, None] * shape_factors(rng, radii.size, p)
    return float((4.0 / 3.0 * math.pi * np.prod(axes, axis=1)).mean())


def internal_pore_share(p: PhantomParameters, micro: MicrostructureParameters) -> float:
    pores = InternalPores.of(0, micro).fraction()
    cracks = crack_volume_fraction(micro, p)
    return 1.0 - (1.0 - pores) * (1.0 - cracks)


@dataclass(frozen=True)
class ReferencePacking:
    """A packed periodic cube: centres, semi-axes, rotations and contact scales."""

    box_um: float
    centres: np.ndarray
    axes: np.ndarray
    rotation: np.ndarray

    @property
    def forms(self) -> np.ndarray:
        return quadratic_form(self.axes, self.rotation)


def reference_points(box_um: float) -> np.ndarray:
    """Points sampled uniformly in the reference cube (fixed): the measure of its fractions."""
    rng = keyed_generator(REFERENCE_SEED, REFERENCE_STREAM, 1)
    return rng.random((REACH_POINTS, 3)) * box_um


class Coverage:
    """How many particles, grown by a reach, cover each reference point.

    Why the pairs are kept sorted by the reach they need: a point can lie in a particle grown
    by r only if it is within the particle's largest semi-axis plus r of its centre, so
    ``counts(r)`` evaluates the quadratic forms only for the pairs whose distance less that
    semi-axis is below r (plus a margin far above rounding), a small prefix of the list for
    the reaches the bisection tries. The pairs left out are outside at that reach, so the
    counts are the same integers as over all pairs.
    """

    ENTRY_MARGIN_UM = 1e-6  # pairs needing up to this much more reach are evaluated too

    def __init__(
        self, packing: ReferencePacking, reach_max_um: float, only: np.ndarray | None = None
    ) -> None:
        """``only``: a mask of the reference points to cover (the others count 0)."""
        self.packing = packing
        box = packing.box_um
        points = reference_points(box)
        self.n = points.shape[0]
        index = np.arange(self.n) if only is None else np.flatnonzero(only)
        tree = cKDTree(packing.centres, boxsize=box)
        largest = packing.axes.max(axis=1)
        bound = float(largest.max()) + reach_max_um
        found = cKDTree(points[index], boxsize=box).sparse_distance_matrix(
            tree, bound, output_type="ndarray"
        )
        point, particle = index[found["i"]], found["j"].astype(np.intp)
        step = points[point] - packing.centres[particle]
        step -= box * np.round(step / box)
        entry = np.sqrt(np.einsum("ni,ni->n", step, step)) - largest[particle]
        needed = entry < reach_max_um + self.ENTRY_MARGIN_UM  # never inside at any reach
        entry, point, particle, step = entry[needed], point[needed], particle[needed], step[needed]
        order = np.argsort(entry)
        self.entry = entry[order]
        self.point, self.particle, self.step = point[order], particle[order], step[order]

    def counts(self, reach_um: float) -> np.ndarray:
        within = int(np.searchsorted(self.entry, reach_um + self.ENTRY_MARGIN_UM))
        forms = quadratic_form(self.packing.axes + reach_um, self.packing.rotation)
        qxx, qxy, qxz, qyy, qyz, qzz = forms[self.particle[:within]].T
        x, y, z = self.step[:within].T
        rho2 = qxx * x * x + qyy * y * y + qzz * z * z
        rho2 += 2 * (qxy * x * y + qxz * x * z + qyz * y * z)
        return np.bincount(self.point[:within], rho2 < 1.0, minlength=self.n)


@lru_cache(maxsize=4)
def _reference_candidates(p: PhantomParameters):
    box = p.packing_reference_cells * p.cell_size_um
    most = REFERENCE_NOMINAL_FRACTIONS[1] / mean_volumes_um3(p)
    rng = keyed_generator(REFERENCE_SEED, REFERENCE_STREAM)
    n = round(most * box**3)
    centres, axes, rotation = draw_candidates(rng, n, np.zeros(3), box, p)
    # a candidate is present below intensity `mark`; evenly spaced marks in random order make
    # the count at any intensity exact (a Poisson count would shift the whole curve by its
    # few per cent of noise, and every phantom with it)
    marks = (rng.permutation(n) + 0.5) / n * most
    return box, centres, axes, rotation, marks


@lru_cache(maxsize=32)
def reference_packing(p: PhantomParameters, intensity_per_um3: float) -> ReferencePacking:
    """The reference cube thinned to ``intensity_per_um3``, relaxed and shrunk to contact."""
    box, centres, axes, rotation, marks = _reference_candidates(p)
    keep = marks < intensity_per_um3
    centres, axes, rotation = centres[keep], axes[keep], rotation[keep]
    forms = support_matrices(axes, rotation)
    bound = axes.max(axis=1)
    moved = relax(centres, forms, bound, p.packing_rounds, p.packing_max_shift_um, box)
    scale = contact_scales(moved, forms, bound, p.contact_flattening, box)
    return ReferencePacking(box, moved, axes * scale[:, None], rotation)


@lru_cache(maxsize=16)
def packing_curve(p: PhantomParameters) -> tuple[np.ndarray, np.ndarray]:
    """Intensities and the envelope fractions their packings fill (increasing part only)."""
    volume = mean_volumes_um3(p)
    nominal = np.linspace(*REFERENCE_NOMINAL_FRACTIONS, p.packing_reference_intensities)
    intensity = nominal / volume
    fraction = np.array(
        [np.mean(Coverage(reference_packing(p, float(v)), 0.0).counts(0.0) > 0) for v in intensity]
    )
    peak = int(np.argmax(fraction))
    return intensity[: peak + 1], fraction[: peak + 1]


def neck_reach_um(p: PhantomParameters, packing: ReferencePacking, domain: float) -> float:
    """The neck reach whose CBD domain fills ``domain`` of the reference cube (bisection)."""
    solid = Coverage(packing, 0.0).counts(0.0) > 0
    coverage = Coverage(packing, REACH_MAX_UM, only=~solid)  # only pore points become CBD
    share = p.cbd_surface_reach_share

    def cbd(reach: float) -> float:
        necks = coverage.counts(reach) >= 2
        coats = coverage.counts(share * reach) >= 1
        return float(np.mean(~solid & (necks | coats)))

    low, high = 0.0, REACH_MAX_UM
    if cbd(high) < domain:
        raise ValueError(
            f"the binder domain ({domain:.3f} of the volume) does not fit between the particles"
        )
    for _ in range(REACH_BISECTIONS):
        middle = 0.5 * (low + high)
        if cbd(middle) < domain:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


@lru_cache(maxsize=32)
def calibrate(
    target_pore_fraction: float, p: PhantomParameters, micro: MicrostructureParameters
) -> PhaseStatistics:
    """Intensity and binder reach for the target porosity (see the module docstring); refuses
    a porosity the composition cannot reach.

    The result is kept in the twin's on-disk cache (:mod:`fibsims_twin.result_cache`), keyed
    by the arguments and the code: it is most of the time a twin takes to open, and every
    process would compute the same numbers again. A refusal is never cached.
    """
    key = cache_key("calibration", float(target_pore_fraction), p, micro)
    fields = tuple(f.name for f in dataclasses.fields(PhaseStatistics))
    stored = load_floats(key, fields)
    if stored is not None:
        return PhaseStatistics(**stored)
    statistics = compute_calibration(target_pore_fraction, p, micro)
    store_floats(key, dataclasses.asdict(statistics))
    return statistics


def compute_calibration(
    target_pore_fraction: float, p: PhantomParameters, micro: MicrostructureParameters
) -> PhaseStatistics:
    """:func:`calibrate` without the cache."""
    shares = solid_shares(p)
    internal = internal_pore_share(p, micro)
    solid = 1.0 - target_pore_fraction
    nmc, cbd = shares.active * solid, shares.cbd * solid
    envelope = nmc / (1.0 - internal)
    domain = cbd / (1.0 - p.cbd_nanoporosity)
    if envelope + domain >= 1.0:
        lowest = 1.0 - 1.0 / (
            shares.active / (1.0 - internal) + shares.cbd / (1.0 - p.cbd_nanoporosity)
        )
        raise ValueError(
            f"porosity {target_pore_fraction} is too low for the electrode's composition: its "
            f"particles and nanoporous binder alone need porosity above {lowest:.3f}"
        )
    intensity, fraction = packing_curve(p)
    if not fraction[0] <= envelope <= fraction[-1]:
        raise ValueError(
            f"porosity {target_pore_fraction} needs particles filling {envelope:.3f} of the "
            f"volume; the packing fills {fraction[0]:.3f} to {fraction[-1]:.3f}"
        )
    lam = float(np.interp(envelope, fraction, intensity))
    reach = neck_reach_um(p, reference_packing(p, lam), domain)
    return PhaseStatistics(
        intensity_per_um3=lam,
        pore_fraction=target_pore_fraction,
        nmc_fraction=nmc,
        cbd_fraction=cbd,
        internal_pore_share=internal,
        envelope_fraction=envelope,
        cbd_domain_fraction=domain,
        neck_reach_um=reach,
        surface_reach_um=reach * p.cbd_surface_reach_share,
    )
