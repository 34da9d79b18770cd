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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from fibsims.instrument.isotopes import ISOTOPES
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


def mean_isotope_mass_u(element: str) -> float:
    """Abundance-weighted mass of an element's isotopes (its atomic ions' mean mass)."""
    isotopes = [i for i in ISOTOPES.values() if i.element == element]
    return sum(i.mass_u * i.abundance for i in isotopes) / sum(i.abundance for i in isotopes)


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
    _sums: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def pixels(self) -> int:
        return self.stack.faces[0].labels.size

    def _phase_map(self, phase: str, step: int) -> np.ndarray:
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

    def total(self, key: tuple[str, str]) -> float:
        """The source summed over the raster (phase sources from a regular sub-grid)."""
        if key not in self._sums:
            if key[0] == ION_SOURCE or key in self._full:
                self._sums[key] = float(self.full(key).sum(dtype=np.float64))
            else:
                coarse = self._phase_map(key[1], self.p.spectrum_linear_stride_px)
                self._sums[key] = float(coarse.sum(dtype=np.float64)) * self.pixels / coarse.size
        return self._sums[key]

    def sample(self, key: tuple[str, str]) -> np.ndarray:
        """The source on the dead-time sub-grid, flattened (float32)."""
        if key not in self._coarse:
            step = self.p.spectrum_dead_time_stride_px
            if key[0] == ION_SOURCE or key in self._full:
                coarse = self.full(key)[::step, ::step]
            else:
                coarse = self._phase_map(key[1], step)
            self._coarse[key] = np.ascontiguousarray(coarse).ravel()
        return self._coarse[key]


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
        lines: CatalogueLines | None = None,
    ) -> None:
        self._sources, self._law, self._p = sources, law, p
        self.lines = lines if lines is not None else cached_lines(p)
        self._in_maps = np.zeros(len(self.lines))  # share of each line already in a map
        self.rate_per_source = self._rate_per_source(efficiency)
        # the atomic ions of elements whose isotopes the caller draws already (the mapped ones)
        for k, ion in enumerate(self.lines.species):
            if ion.formula in drawn_elements:
                self.rate_per_source[self.lines.species_index == k] = 0.0

    def _rate_per_source(self, efficiency: Efficiency) -> np.ndarray:
        """Detected ions of each line per unit of its source (per pixel)."""
        lines = self.lines
        coefficient = np.array([s.coefficient for s in lines.species])[lines.species_index]
        rate = coefficient * lines.abundance * efficiency(lines.mass_u)
        for k, ion in enumerate(lines.species):
            if ion.source[0] == ION_SOURCE:
                parent = efficiency(np.array([mean_isotope_mass_u(ion.source[1])]))[0]
                rate[lines.species_index == k] /= parent
        return rate

    def _groups(self) -> Mapping[tuple[str, str], np.ndarray]:
        groups: dict[tuple[str, str], list[int]] = {}
        for k, ion in enumerate(self.lines.species):
            groups.setdefault(ion.source, []).append(k)
        return {
            key: np.flatnonzero(np.isin(self.lines.species_index, members))
            for key, members in groups.items()
        }

    def areas(self) -> np.ndarray:
        """Expected counts of every line over the raster, under the detection law."""
        slope = float(self._law(np.array([LINEAR_PROBE_IONS]))[0]) / LINEAR_PROBE_IONS
        areas = np.zeros(len(self.lines))
        for key, index in self._groups().items():
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
        p = self._p
        half = mass_u / (2.0 * p.mass_resolving_power)
        share = window_share(self.lines.mass_u, mass_u - half, mass_u + half, p)
        relative = share / own_window_share(mass_u, p)
        routed = np.flatnonzero(
            (share > p.interference_min_window_share) & (self.rate_per_source > 0)
        )
        if routed.size == 0:
            return None
        extra = None
        for line in routed:
            key = self.lines.species[self.lines.species_index[line]].source
            term = self._sources.full(key) * np.float32(self.rate_per_source[line] * relative[line])
            extra = term if extra is None else extra + term
        self._in_maps[routed] += relative[routed]
        return extra

    def peaks(self) -> list[tuple[float, float]]:
        """(ion mass, expected area) of every line, less what mapped windows already carry."""
        areas = self.areas() * np.clip(1.0 - self._in_maps, 0.0, 1.0)
        keep = areas > 0
        return list(zip(self.lines.mass_u[keep].tolist(), areas[keep].tolist(), strict=True))
