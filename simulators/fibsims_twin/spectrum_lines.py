"""Expected areas of the catalogue's ions on one raster, and the ones that fall into mapped peaks.

Why from the raster's own sources: each ion of :mod:`fibsims_twin.ion_catalogue` names its
source, so its area follows from what the raster sputtered, pixel by pixel: epoxy fragments from
the pore-filler pixels, binder ions from the CBD pixels, LiO+ and NiO+ from the oxide's own
Li+ and Ni+ (with whatever matrix effect the count model gives those), Na+ and K+ from the
phases they are placed in. A raster of pores alone shows the epoxy and no LiO+.

Per line (one isotopologue of one species) the true ions per pixel are

    rate = coefficient x isotopologue share x efficiency(m) x source(pixel)

with ``efficiency`` the spectrometer's transmission x duty cycle at the line's mass (for a
cluster of an atomic ion, the ratio efficiency(m) / efficiency(parent) on top of the parent's
detected rate), and its area is the detection law (the same per-pixel function that turns the
mapped peaks' rates into counts) summed over the pixels.

Why not every pixel for every line: there are ~200 lines, and one pass of the law over a
256 x 256 raster costs ~50 us. The law's linear part is exact from each source's sum; the
saturation share (law / linear) of a line whose brightest pixel saturates measurably is
evaluated on every ``spectrum_dead_time_stride_px``-th pixel in each direction (it is a smooth
function of the rate distribution, which a regular sub-grid samples well); phase sources are
summed on every ``spectrum_linear_stride_px``-th pixel. Both are numerical choices.

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
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters
from fibsims_twin.peak_shape import own_window_share, window_share
from fibsims_twin.tof_counts import DepthStack

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
    over the raster's sublayers (``stack``).
    """

    stack: DepthStack
    atomic_ion_rate: AtomicIonRate
    p: TofParameters
    _full: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    _coarse: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @property
    def pixels(self) -> int:
        return self.stack.faces[0].labels.size

    def _phase_map(self, phase: str, step: int) -> np.ndarray:
        """Atoms sputtered from ``phase`` on every ``step``-th pixel (float32)."""
        label = PHASE_LABEL[phase]
        total = np.zeros_like(self.stack.atoms_per_layer[0][::step, ::step])
        for face, atoms in zip(self.stack.faces, self.stack.atoms_per_layer, strict=True):
            total += np.where(face.labels[::step, ::step] == label, atoms[::step, ::step], 0)
        return total

    def full(self, key: tuple[str, str]) -> np.ndarray:
        """The source on every pixel of the raster (float32)."""
        if key not in self._full:
            kind, name = key
            if kind == ION_SOURCE:
                self._full[key] = self.atomic_ion_rate(name)
            else:
                self._full[key] = self._phase_map(name, 1)
        return self._full[key]

    def _coarse_map(self, key: tuple[str, str]) -> tuple[np.ndarray, int]:
        """The source on a regular sub-grid and its step: the full map where it exists (an
        atomic ion's always does), else a phase map on every ``spectrum_linear_stride_px``-th
        pixel."""
        if key[0] == ION_SOURCE or key in self._full:
            return self.full(key), 1
        if key not in self._coarse:
            self._coarse[key] = self._phase_map(key[1], self.p.spectrum_linear_stride_px)
        return self._coarse[key], self.p.spectrum_linear_stride_px

    def total(self, key: tuple[str, str]) -> float:
        """The source summed over the raster (phase sources from their sub-grid)."""
        coarse, _ = self._coarse_map(key)
        return float(coarse.sum(dtype=np.float64)) * self.pixels / coarse.size

    def sample(self, key: tuple[str, str]) -> np.ndarray:
        """The source on every ``spectrum_dead_time_stride_px``-th pixel, flattened."""
        coarse, step = self._coarse_map(key)
        stride = self.p.spectrum_dead_time_stride_px
        if stride % step:
            coarse, step = self.full(key), 1
        return np.ascontiguousarray(coarse[:: stride // step, :: stride // step]).ravel()


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
            share[routed] / own_window_share(mass_u, p),
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
