"""The ToF-SIMS count model: ions per pixel and peak, before the detector's digitiser.

docs/physics.md's count model, per pixel and peak, summed over the depth the raster sputters and
averaged over the pixel's area:

    N = sum over samples of (I tau / e) frames / samples x Y_sputter(phase)
        x c_element x P(element, phase, x) x abundance x T x D(m)

with c the local atomic fraction from the phantom, P the secondary-ion yield with its matrix
effect (:mod:`fibsims_twin.ion_yields`), T the spectrometer transmission and D(m) the duty
cycle of the orthogonal extraction. Each frame sputters the face, so a raster of many frames
integrates a layer below the face (docs/physics.md: the SIMS maps reach deeper than one slice); the
phantom is sampled at the mid-depths of equal sublayers.

Why area sampling: a SIMS pixel (78 nm at the default) is wider than a crack (40 nm), and the
beam sputters the whole pixel, not its centre. The phantom is sampled on a k x k grid inside
every pixel (``raster_subpixel_samples``) and the atoms, fractions and phases are averaged per
pixel, so a thin crack lowers a pixel's signal by its area share instead of aliasing into a
dotted line. The truth maps are the same pixel averages.

"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fibsims.instrument import InstrumentError, Peak, Polarity
from fibsims.instrument.isotopes import PeakIon, parse_peak
from fibsims_twin.face import FaceTruth
from fibsims_twin.ion_yields import ion_yield, is_positive, lithiation_factor, matrix_factors
from fibsims_twin.materials import Material, label_value
from fibsims_twin.parameters import TofParameters

PRIMARY_ELEMENT = "Xe"
TRUTH_ELEMENTS = ("Li", "Ni", "Mn", "Co", "O")


def polarity_charge(polarity: Polarity) -> int:
    return 1 if Polarity(polarity) is Polarity.POSITIVE else -1


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


def subpixel_axis(centres_um: np.ndarray, pixel_um: float, k: int) -> np.ndarray:
    """The k sample positions inside each pixel (centres of a k x k split), ascending."""
    if k == 1:
        return centres_um
    offsets = ((np.arange(k) + 0.5) / k - 0.5) * pixel_um
    return (np.asarray(centres_um)[:, None] + offsets[None, :]).ravel()


def pixel_mean(values: np.ndarray, k: int) -> np.ndarray:
    """Average a (k H, k W) sub-sampled map over each pixel's k x k samples (float32). Summed
    as k^2 strided slices: ~4x faster than a reduction over a reshaped array's inner axes."""
    if k == 1:
        return values.astype(np.float32, copy=False)
    out = values[0::k, 0::k].astype(np.float32, copy=True)
    for i in range(k):
        for j in range(k):
            if i or j:
                out += values[i::k, j::k]
    out *= np.float32(1.0 / (k * k))
    return out


@dataclass
class DepthStack:
    """The phantom at a raster's sample points (sublayer mid-depths x k x k per pixel), and the
    ions each pixel sputters.

    ``faces`` are evaluated on the raster's sub-pixel grid (k H, k W); ``atoms_per_layer``
    (k H, k W) float32 are the atoms each sample point sputters from each sublayer (the sputter
    yield of its phase there). Every per-pixel result is the mean over a pixel's samples.
    """

    faces: list[FaceTruth]
    atoms_per_layer: list[np.ndarray]
    subpixel: int = 1
    _fractions: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def sample(
        cls, faces: list[FaceTruth], primaries: float, sputter_yields: np.ndarray, subpixel: int = 1
    ) -> DepthStack:
        per_layer = np.float32(primaries / len(faces))
        table = sputter_yields.astype(np.float32)
        return cls(faces, [table.take(face.labels) * per_layer for face in faces], subpixel)

    @property
    def shape(self) -> tuple[int, int]:
        """The raster's pixels (H, W)."""
        h, w = self.faces[0].shape
        return h // self.subpixel, w // self.subpixel

    def emitted_ions(self, element: str, polarity: Polarity, p: TofParameters) -> np.ndarray:
        """Secondary ions of ``element`` (all isotopes) each pixel emits over the raster: the
        sputtered atoms times the ion yield of their matrix (and, for Li+ from NMC, of their
        lithiation), float32."""
        factors = matrix_factors(polarity, p) * np.float32(ion_yield(element, polarity, p))
        lithiation = element == "Li" and is_positive(polarity)
        total = np.zeros(self.faces[0].shape, dtype=np.float32)
        for face, atoms in zip(self.faces, self.atoms_per_layer, strict=True):
            emitted = atoms * face.atomic_fraction(element)
            emitted *= factors.take(face.labels)
            if lithiation:
                # soc is 0 off NMC, where no lithiation factor applies
                in_nmc = face.labels == label_value(Material.NMC811)
                emitted = np.where(in_nmc, emitted * lithiation_factor(face.soc, p), emitted)
            total += emitted
        return pixel_mean(total, self.subpixel)

    def sputtered_depth_um(self, depth_per_volume_per_dose: np.ndarray) -> np.ndarray:
        """Depth each pixel's raster removes (float32, um), from the mean over its samples of
        ``depth_per_volume_per_dose[label]`` (the depth the raster's dose removes in each phase;
        vacuum removes nothing)."""
        table = depth_per_volume_per_dose.astype(np.float32)
        total = sum(table.take(face.labels) for face in self.faces)
        return pixel_mean(total / np.float32(len(self.faces)), self.subpixel)

    def face_advance_um(self, depth_per_phase_um: np.ndarray) -> float:
        """How far the twin's one-plane face moves: the depth of the least-receded phase on the
        field (vacuum aside), 0 on a field of vacuum.

        Why not the area mean: after the raster the real face is rough, each phase receded by
        its own depth (epoxy twice NMC's). The next cut flattens every region shallower than
        its front, so the plane the next cut and raster meet is the least-receded material's;
        the mean would put NMC 28 nm deep at the default raster where it receded 21 nm, and
        the cuts (25 nm) would stop removing it. Deeper phases stay recessed below it."""
        present = np.zeros(len(Material), dtype=bool)
        for face in self.faces:
            present |= np.bincount(face.labels.ravel(), minlength=len(Material)) > 0
        present[Material.VACUUM] = False
        return float(depth_per_phase_um[present].min()) if present.any() else 0.0

    def solid_share(self) -> np.ndarray:
        """Per pixel, the share of its samples that hold material (not vacuum), float32."""
        vacuum = label_value(Material.VACUUM)
        solid = sum((face.labels != vacuum).astype(np.float32) for face in self.faces)
        return pixel_mean(solid / np.float32(len(self.faces)), self.subpixel)

    def mean_fraction(self, element: str) -> np.ndarray:
        """Atomic fraction of ``element`` averaged over the sputtered depth and the pixel's area
        (float32)."""
        if element not in self._fractions:
            total = sum(face.atomic_fraction(element) for face in self.faces)
            mean = (total / np.float32(len(self.faces))).astype(np.float32)
            self._fractions[element] = pixel_mean(mean, self.subpixel)
        return self._fractions[element]

    @cached_property
    def labels(self) -> np.ndarray:
        """The phase found most often over the pixel's samples (ties: the shallowest sublayer,
        then the first sample), uint8."""
        k = self.subpixel
        h, w = self.shape
        # (layers, H, k, W, k) -> (layers * k * k, H, W), shallowest layer's samples first
        stack = np.stack([face.labels for face in self.faces]).reshape(-1, h, k, w, k)
        stack = stack.transpose(0, 2, 4, 1, 3).reshape(-1, h, w)
        votes = np.stack([(stack == label_value(m)).sum(axis=0) for m in Material])
        best = votes.max(axis=0)
        out = stack[0].copy()
        for layer in stack[::-1]:  # deepest first, so the shallowest winner is written last
            count = np.take_along_axis(votes, layer[None].astype(np.intp), axis=0)[0]
            out = np.where(count == best, layer, out)
        return out.astype(np.uint8)

    def truth(self) -> dict[str, np.ndarray]:
        """Labels, Li fraction and ``<element>_fraction`` maps averaged over the depth and area."""
        truth = {"labels": self.labels}
        for element in TRUTH_ELEMENTS:
            truth[f"{element.lower()}_fraction"] = self.mean_fraction(element)
        return truth
