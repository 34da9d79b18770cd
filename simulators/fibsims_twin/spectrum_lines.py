"""Expected areas of the catalogue's ions on one raster, and the ones that fall into mapped peaks.

Why from the raster's own sources: each ion of :mod:`fibsims_twin.ion_catalogue` names its
source, so its area follows from what the raster sputtered, pixel by pixel: epoxy fragments from
the pore-filler pixels, binder ions from the CBD pixels, LiO+ and NiO+ from the oxide's own
Li+ and Ni+ (with whatever matrix effect the count model gives those), Na+ and K+ from the
phases they are placed in. A raster of pores alone shows the epoxy and no LiO+.

Per line (one isotopologue of one species) the true ions per pixel are

    rate = coefficient x isotopologue share x efficiency(m) x source(pixel)

with ``efficiency`` the spectrometer's transmission x duty cycle D(m) at the line's own mass
(:func:`fibsims_twin.ion_yields.duty_cycles`; for a cluster of an atomic ion, the ratio
efficiency(m) / efficiency(parent) on top of the parent's detected rate, which the caller gives
through the duty cycle of the parent's mean isotope mass), and its area is the detection law
(the same per-pixel function that turns the mapped peaks' rates into counts: the digitiser's
recorded mean over the window's share, :mod:`fibsims_twin.digitiser`) summed over the pixels.

Why not every pixel for every line: there are ~200 lines, and one pass of the law over a
256 x 256 raster costs a few hundred us. The law's linear part is exact from each source's sum
(a phase's over every sample of the phase); the saturation share (law / linear) of a
line whose brightest pixel clips measurably is evaluated on every
``spectrum_saturation_stride_px``-th pixel in each direction (it is a smooth function of the
rate distribution, which a regular sub-grid samples well), a numerical choice.

Interference (:meth:`ExtraIons.window_rate`): a line whose peak puts more than
``interference_min_window_share`` of its area inside a mapped peak's window m +- FWHM/2 is
counted in that peak's map, as (its share in the window / the mapped ion's own share) mapped
ions per ion, per pixel, before the spot blur. At R = 800 this is real for 58NiH+ in the 59Co+
window (0.010 u apart; m/dm ~ 6000 would separate them). The part of a line that went into a
map is not drawn again at its own mass in the spectrum (the map's area carries it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fibsims_twin.ion_catalogue import (
    CBD,
    ION_SOURCE,
    NMC,
    PORE,
    CatalogueLines,
    cached_lines,
)
from fibsims_twin.materials import Material, label_value
from fibsims_twin.parameters import TofParameters
from fibsims_twin.peak_shape import peak_window_fraction, window_share
from fibsims_twin.tof_counts import DepthStack, pixel_mean

DetectionLaw = Callable[[np.ndarray], np.ndarray]  # true ions per pixel -> expected counts
Efficiency = Callable[[np.ndarray], np.ndarray]  # ion mass (u) -> transmission x duty cycle
AtomicIonRate = Callable[[str], np.ndarray]  # element -> its detected atomic ions per pixel

PHASE_LABEL = {PORE: Material.PORE, CBD: Material.CBD, NMC: Material.NMC811}
LINEAR_PROBE_IONS = 1e-9  # numerical: a rate deep in the law's linear regime, for its slope


@dataclass
class RasterSources:
    """The per-pixel sources of one raster: the oxide's atomic ions and each phase's atoms.

    ``atomic_ion_rate`` gives the detected atomic ions of an element per pixel (full raster,
    as the count model computes them); phase sources are the atoms sputtered from that phase
    over the raster's sublayers (``stack``), averaged over each pixel's k x k samples as the
    count model averages them (``DepthStack.subpixel``).
    """

    stack: DepthStack
    atomic_ion_rate: AtomicIonRate
    p: TofParameters
    _full: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _coarse: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _totals: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def pixels(self) -> int:
        h, w = self.stack.shape
        return h * w

    def _phase_map(self, phase: str, step: int) -> np.ndarray:
        """Atoms sputtered from ``phase`` on every ``step``-th pixel, the mean over each such
        pixel's samples (float32)."""
        label = label_value(PHASE_LABEL[phase])
        k = self.stack.subpixel
        h, w = self.stack.shape

        def every_step(values: np.ndarray) -> np.ndarray:
            # the k x k samples of every step-th pixel, as a (k h', k w') sub-sampled map
            if step == 1:
                return values
            blocks = values.reshape(h, k, w, k)[::step, :, ::step, :]
            return blocks.reshape(blocks.shape[0] * k, blocks.shape[2] * k)

        total = None
        for face, atoms in zip(self.stack.faces, self.stack.atoms_per_layer, strict=True):
            term = np.where(every_step(face.labels) == label, every_step(atoms), np.float32(0))
            total = term if total is None else total + term
        return pixel_mean(total, k)

    def full(self, key: tuple[str, str]) -> np.ndarray:
        """The source on every pixel of the raster (float32)."""
        if key not in self._full:
            kind, name = key
            if kind == ION_SOURCE:
                self._full[key] = self.atomic_ion_rate(name)
            else:
                self._full[key] = self._phase_map(name, 1)
        return self._full[key]

    def total(self, key: tuple[str, str]) -> float:
        """The source summed over the raster: an atomic ion's map summed; a phase's atoms over
        every sample of the phase (a dot product with its mask, ~5x faster than a weighted
        bincount and within ~1e-6 of the float64 sum; the sum of the pixel means is the sum
        over the samples / k^2)."""
        kind, name = key
        if kind == ION_SOURCE or key in self._full:
            return float(self.full(key).sum(dtype=np.float64))
        if key not in self._totals:
            label = label_value(PHASE_LABEL[name])
            total = 0.0
            for face, atoms in zip(self.stack.faces, self.stack.atoms_per_layer, strict=True):
                mask = (face.labels.ravel() == label).astype(np.float32)
                total += float(np.dot(mask, atoms.ravel()))
            self._totals[key] = total / self.stack.subpixel**2
        return self._totals[key]

    def sample(self, key: tuple[str, str]) -> np.ndarray:
        """The source on every ``spectrum_saturation_stride_px``-th pixel, flattened."""
        stride = self.p.spectrum_saturation_stride_px
        if key[0] == ION_SOURCE or key in self._full:
            return np.ascontiguousarray(self.full(key)[::stride, ::stride]).ravel()
        if key not in self._coarse:
            self._coarse[key] = self._phase_map(key[1], stride).ravel()
        return self._coarse[key]


def _window_routing(
    lines: CatalogueLines, mass_u: float, p: TofParameters
) -> tuple[np.ndarray, np.ndarray]:
    """(lines routed into the window of a mapped ion of ``mass_u``, their mapped-ion
    equivalents per ion: share in the window / the mapped ion's own share); kept with the
    catalogue, which belongs to ``p``."""
    cached = lines.window_routing.get(mass_u)
    if cached is None:
        half = mass_u / (2.0 * p.mass_resolving_power)
        share = window_share(lines.mass_u, mass_u - half, mass_u + half, p)
        routed = np.flatnonzero(share > p.interference_min_window_share)
        cached = lines.window_routing[mass_u] = (
            routed,
            share[routed] / peak_window_fraction(p),
        )
    return cached


class ExtraIons:
    """The catalogue's lines on one raster: their expected areas and their share of mapped
    windows (see the module's docstring)."""

    def __init__(
        self,
        sources: RasterSources,
        efficiency: Efficiency,
        law: DetectionLaw,
        p: TofParameters,
        drawn_elements: frozenset[str] = frozenset(),
    ) -> None:
        self._sources, self._law, self._p = sources, law, p
        self.lines = lines = cached_lines(p)
        self._in_maps = np.zeros(len(lines))  # share of each line already in a map
        # detected ions of each line per unit of its source (per pixel); a cluster's source is
        # its parent's detected ions, so the efficiency enters as a ratio
        parent = np.isfinite(lines.parent_mass_u)
        rate = lines.coefficient * efficiency(lines.mass_u)
        rate[parent] /= efficiency(lines.parent_mass_u[parent])
        # the atomic ions of elements whose isotopes the caller draws already (the mapped ones)
        rate[lines.lines_of_atomic_ions(drawn_elements)] = 0.0
        self.rate_per_source = rate

    def areas(self) -> np.ndarray:
        """Expected counts of every line over the raster, under the detection law."""
        slope = float(self._law(np.array([LINEAR_PROBE_IONS]))[0]) / LINEAR_PROBE_IONS
        areas = np.zeros(len(self.lines))
        for key, index in self.lines.groups.items():
            total = self._sources.total(key)
            if total <= 0:
                continue
            rate = self.rate_per_source[index]
            share = np.full(index.size, slope)
            sample = self._sources.sample(key)
            brightest = rate * float(sample.max())
            linear = slope * brightest
            strong = self._law(brightest) < (1.0 - self._p.spectrum_linear_tolerance) * linear
            sample_sum = float(sample.sum(dtype=np.float64))
            if strong.any() and sample_sum > 0:
                scale = rate[strong].astype(np.float32)
                counts = self._law(scale[:, None] * sample[None, :]).sum(axis=1, dtype=np.float64)
                share[strong] = counts / (rate[strong] * sample_sum)
            areas[index] = rate * total * share
        return areas

    def window_rate(self, mass_u: float) -> np.ndarray | None:
        """Extra ions per pixel (in equivalents of the mapped ion) that lines inside the window
        m +- FWHM/2 of a mapped ion of mass ``mass_u`` add to its map; None if none does.
        Call once per mapped peak: the lines' share in the map leaves the spectrum's own peak."""
        routed, relative = _window_routing(self.lines, float(mass_u), self._p)
        live = self.rate_per_source[routed] > 0
        routed, relative = routed[live], relative[live]
        if routed.size == 0:
            return None
        extra = None
        for line, equivalents in zip(routed, relative, strict=True):
            source = self._sources.full(self.lines.source_of(line))
            term = source * np.float32(self.rate_per_source[line] * equivalents)
            extra = term if extra is None else extra + term
        self._in_maps[routed] += relative
        return extra

    def peaks(self) -> list[tuple[float, float]]:
        """(ion mass, expected area) of every line, less what mapped windows already carry."""
        areas = self.areas() * np.clip(1.0 - self._in_maps, 0.0, 1.0)
        keep = areas > 0
        return list(zip(self.lines.mass_u[keep].tolist(), areas[keep].tolist(), strict=True))
