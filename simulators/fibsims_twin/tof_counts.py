"""The ToF-SIMS count model: ions per pixel and peak, before the detector's dead time.

physics.md's count model, per pixel and peak, summed over the depth the raster sputters:

    N = sum over depth layers of (I tau / e) frames / layers x Y_sputter(phase)
        x c_element x U_element x abundance x T x D

with c the local atomic fraction from the phantom, U the useful yield of the element in the
extracted polarity, T the spectrometer transmission and D the extraction duty cycle (the share
of a continuous ion stream an orthogonal extraction pulse catches). Each frame sputters the
face, so a raster of many frames integrates a layer below the face (physics.md: the SIMS maps
reach deeper than one slice); the phantom is sampled at the mid-depths of equal sublayers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fibsims.instrument import InstrumentError, Peak, Polarity
from fibsims.instrument.isotopes import PeakIon, parse_peak
from fibsims_twin.face import FaceTruth
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters

PRIMARY_ELEMENT = "Xe"
TRUTH_ELEMENTS = ("Li", "Ni", "Mn", "Co", "O")


def polarity_charge(polarity: Polarity) -> int:
    return 1 if Polarity(polarity) is Polarity.POSITIVE else -1


def useful_yield(element: str, polarity: Polarity, p: TofParameters) -> float:
    """Ions detected per sputtered atom of ``element`` in ``polarity`` (before transmission)."""
    table = p.useful_yield_positive if polarity_charge(polarity) > 0 else p.useful_yield_negative
    return table.get(element, p.useful_yield_other)


def integration_window(ion: PeakIon, p: TofParameters) -> Peak:
    """The peak integrated over m +- FWHM / 2, FWHM = m / R."""
    half_u = ion.mass_u / (2.0 * p.mass_resolving_power)
    return Peak(ion.label, ion.mass_u, ion.mass_u - half_u, ion.mass_u + half_u)


def parse_peaks(labels: tuple[str, ...], polarity: Polarity) -> list[PeakIon]:
    """Parse peak labels, refusing unknown isotopes and ions of the other polarity."""
    if not labels:
        raise InstrumentError("a raster needs at least one peak to map, e.g. peaks: ['7Li+']")
    try:
        charge = polarity_charge(polarity)
    except ValueError:
        raise InstrumentError(f"polarity {polarity!r} is not one of: positive, negative") from None
    ions = []
    for label in labels:
        try:
            ion = parse_peak(label)
        except ValueError as error:
            raise InstrumentError(str(error)) from None
        if ion.charge != charge:
            raise InstrumentError(
                f"peak {label!r} has the wrong charge for a {Polarity(polarity).value} raster; "
                f"map {label[:-1]}{'+' if charge > 0 else '-'} or switch polarity"
            )
        ions.append(ion)
    return ions


@dataclass
class DepthStack:
    """The phantom at the mid-depths of a raster's sublayers, and the ions each pixel sputters.

    ``faces`` are evaluated on the raster's own grid; ``atoms_per_layer`` (H, W) float32 are the
    atoms each pixel sputters from each sublayer (the sputter yield of its phase there).
    """

    faces: list[FaceTruth]
    atoms_per_layer: list[np.ndarray]
    _fractions: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def sample(
        cls, faces: list[FaceTruth], primaries: float, sputter_yields: np.ndarray
    ) -> DepthStack:
        per_layer = np.float32(primaries / len(faces))
        table = sputter_yields.astype(np.float32)
        return cls(faces, [table.take(face.labels) * per_layer for face in faces])

    def sputtered_atoms(self, element: str) -> np.ndarray:
        """Atoms of ``element`` sputtered per pixel over the raster (float32)."""
        total = np.zeros(self.faces[0].shape, dtype=np.float32)
        for face, atoms in zip(self.faces, self.atoms_per_layer, strict=True):
            total += atoms * face.atomic_fraction(element)
        return total

    def mean_fraction(self, element: str) -> np.ndarray:
        """Atomic fraction of ``element`` averaged over the sputtered depth (float32)."""
        if element not in self._fractions:
            total = sum(face.atomic_fraction(element) for face in self.faces)
            self._fractions[element] = (total / np.float32(len(self.faces))).astype(np.float32)
        return self._fractions[element]

    @cached_property
    def labels(self) -> np.ndarray:
        """The phase found most often over the depth (ties: the shallowest), uint8."""
        stack = np.stack([face.labels for face in self.faces])
        votes = np.stack([(stack == m).sum(axis=0) for m in Material])
        best = votes.max(axis=0)
        out = stack[0].copy()
        for layer in stack[::-1]:  # deepest first, so the shallowest winner is written last
            count = np.take_along_axis(votes, layer[None].astype(np.intp), axis=0)[0]
            out = np.where(count == best, layer, out)
        return out.astype(np.uint8)

    def truth(self) -> dict[str, np.ndarray]:
        """Labels, Li fraction and ``<element>_fraction`` maps averaged over the depth."""
        truth = {"labels": self.labels}
        for element in TRUTH_ELEMENTS:
            truth[f"{element.lower()}_fraction"] = self.mean_fraction(element)
        return truth
