"""A lithium fraction estimate from dead-time-corrected SIMS maps: an estimate, not a
quantification.

``li_fraction = Li / (Li + sum of host metals)``, each element's signal being its corrected
peak divided by that isotope's natural abundance (so 7Li+ and 58Ni+ stand for all of Li and
Ni). Why only an estimate: secondary-ion yields differ by element (in the twin Li ionises five
times better than Ni) and with the matrix, so without relative sensitivity factors measured
on standards this is a signal fraction, not an atomic fraction. It is still the map to read
for where lithium is depleted relative to the transition metals: dividing by the metals
removes what scales every peak alike (the primary dose, the sputter yield, porosity inside a
pixel). Where the signals are too weak to form a ratio (pores, binder, vacuum) it is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fibsims.instrument.isotopes import parse_peak

LI_PEAK = "7Li+"
HOST_METALS = frozenset({"Ni", "Mn", "Co", "Fe", "Al", "Mg", "Ti", "Zr", "Cu"})
"""Elements counted as the host lattice's metals (cathode transition metals and dopants)."""

MIN_SIGNAL_COUNTS = 3.0
"""Below this many corrected counts (Li plus metals) in a voxel the ratio is NaN."""


def metal_peaks(labels: list[str]) -> list[str]:
    """The peaks among ``labels`` that stand for a host metal (positive or negative ions)."""
    found = []
    for label in labels:
        try:
            element = parse_peak(label).isotope.element
        except ValueError:
            continue  # a label the isotope table does not know is no host metal
        if element in HOST_METALS:
            found.append(label)
    return found


def can_estimate(labels: list[str]) -> bool:
    """The maps hold 7Li+ and at least one host metal."""
    return LI_PEAK in labels and bool(metal_peaks(labels))


def li_fraction(
    corrected: Mapping[str, np.ndarray], min_signal_counts: float = MIN_SIGNAL_COUNTS
) -> np.ndarray:
    """The Li fraction estimate (float32, 0..1, NaN where the signal is too weak) of one
    slice's corrected maps, keyed by peak label; needs 7Li+ and a host metal peak."""
    labels = list(corrected)
    metals = metal_peaks(labels)
    if LI_PEAK not in corrected or not metals:
        raise ValueError(f"a Li fraction needs {LI_PEAK} and a host metal peak; have {labels}")
    li_counts = np.asarray(corrected[LI_PEAK], dtype=np.float64)
    li = li_counts / parse_peak(LI_PEAK).isotope.abundance
    by_element: dict[str, list[np.ndarray]] = {}
    counts = li_counts.copy()
    for label in metals:
        isotope = parse_peak(label).isotope
        peak = np.asarray(corrected[label], dtype=np.float64)
        by_element.setdefault(isotope.element, []).append(peak / isotope.abundance)
        counts += peak
    # an element mapped through several isotopes: the mean of their estimates
    metal = sum(np.mean(estimates, axis=0) for estimates in by_element.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = li / (li + metal)
    fraction[~(counts >= min_signal_counts)] = np.nan
    return fraction.astype(np.float32)
