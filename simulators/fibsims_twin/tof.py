"""ToF-SIMS raster of the current face: per-peak count maps and the sum spectrum.

Why this model: physics.md's count model, per pixel and peak

    N = (I tau / e) * frames * Y_sputter(phase) * c_element * U_element * abundance * T * w

with c the local atomic fraction from the phantom, U the useful yield of the element in the
extracted polarity, T the spectrometer transmission and w the share of a Gaussian peak inside
the integration window m +- FWHM / 2 (erf(sqrt(ln 2)) = 0.761), so maps and spectrum agree.
The expected maps are blurred by the beam spot and Poisson sampled; the sum spectrum carries all
isotopes of the mapped elements, Xe+ from the primaries (positive polarity) and a flat background.

v1 samples the face surface only: the raster's own sputtering (tens of nm per raster) does not
move the face or integrate over depth, and no dead time limits the counts.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims.instrument import (
    InstrumentError,
    Peak,
    Polarity,
    Raster,
    RasterRequest,
    TofSpectrometer,
)
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES, PeakIon, parse_peak
from fibsims_twin.clock import VirtualClock
from fibsims_twin.materials import sputter_yields_by_label
from fibsims_twin.noise import blur, shot_noise
from fibsims_twin.parameters import (
    ColumnParameters,
    DetectorParameters,
    MaterialParameters,
    NoiseParameters,
    TofParameters,
)
from fibsims_twin.phantom import Phantom
from fibsims_twin.rng import RandomStreams
from fibsims_twin.scan import (
    check_scan,
    pixel_axes,
    pixel_size_nm,
    primaries_per_pixel,
    scan_duration_s,
    spot_sigma_px,
)
from fibsims_twin.spectrum import sum_spectrum
from fibsims_twin.state import TwinState

RASTER_STREAM = "tof.raster"
PRIMARY_ELEMENT = "Xe"
WINDOW_FRACTION = math.erf(math.sqrt(math.log(2.0)))  # Gaussian area within +- FWHM / 2


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


class TwinTofSpectrometer(TofSpectrometer):
    """The simulated ToF-SIMS, rastering with the column's selected current."""

    def __init__(
        self,
        state: TwinState,
        clock: VirtualClock,
        streams: RandomStreams,
        phantom: Phantom,
        parameters: TofParameters,
        column: ColumnParameters,
        materials: MaterialParameters,
        detector: DetectorParameters,
        noise: NoiseParameters,
    ) -> None:
        self._state = state
        self._clock = clock
        self._streams = streams
        self._phantom = phantom
        self._p = parameters
        self._column = column
        self._min_dwell_us = detector.min_dwell_us
        self._noise = noise
        self._sputter_yields = sputter_yields_by_label(materials)

    def acquire_raster(self, request: RasterRequest) -> Raster:
        state, p, scan = self._state, self._p, request.scan
        if state.blanked:
            raise InstrumentError(
                "cannot raster: the beam is blanked; call column.unblank() before acquire_raster"
            )
        check_scan(scan, self._min_dwell_us, "SIMS raster")
        ions = parse_peaks(tuple(request.peaks), request.polarity)
        x, y = pixel_axes(scan, state.field_centre_um())
        truth = self._phantom.face(state.face_z_um, x, y)
        primaries = primaries_per_pixel(state.current_na, scan.dwell_us, scan.frames)
        sputtered = primaries * self._sputter_yields[truth.labels]  # atoms per pixel

        # detected ions per pixel over the whole peak (all isotopes), per element
        positive = polarity_charge(request.polarity) > 0
        xe_per_pixel = primaries * p.xe_counts_per_primary * p.transmission if positive else 0.0
        detected: dict[str, np.ndarray] = {}
        for element in dict.fromkeys(ion.isotope.element for ion in ions):
            if element == PRIMARY_ELEMENT:
                detected[element] = np.full(truth.shape, xe_per_pixel)
            else:
                efficiency = useful_yield(element, request.polarity, p) * p.transmission
                detected[element] = sputtered * truth.atomic_fraction(element) * efficiency
        totals = {element: float(counts.sum()) for element, counts in detected.items()}
        if positive:  # Xe+ from the primaries shows in every positive spectrum
            totals[PRIMARY_ELEMENT] = xe_per_pixel * truth.labels.size

        size_nm = pixel_size_nm(scan)
        sigma_px = spot_sigma_px(state.current_na, size_nm, self._column)
        rng = self._streams.at_position(RASTER_STREAM, state.face_z_um)
        maps = np.empty((len(ions), *truth.shape), dtype=np.uint32)
        for k, ion in enumerate(ions):
            expected = detected[ion.isotope.element] * (ion.isotope.abundance * WINDOW_FRACTION)
            counts = shot_noise(rng, blur(expected, sigma_px, self._noise), self._noise)
            maps[k] = np.minimum(counts, np.iinfo(np.uint32).max)

        duration_s = scan_duration_s(
            scan.resolution_px, scan.dwell_us, scan.frames, p.line_flyback_s
        )
        background = p.background_counts_per_sample_per_s * duration_s
        spectrum = sum_spectrum(rng, spectral_peaks(totals, request.polarity), background, p)
        self._clock.sleep(duration_s)
        return Raster(
            peaks=tuple(integration_window(ion, p) for ion in ions),
            count_maps=maps,
            spectrum=spectrum,
            pixel_size_nm=size_nm,
            dwell_us=scan.dwell_us,
            frames=scan.frames,
            current_na=state.current_na,
            duration_s=duration_s,
            saturated_lines=np.zeros(scan.resolution_px[1], dtype=np.uint8),
        )


def spectral_peaks(totals: dict[str, float], polarity: Polarity) -> list[tuple[float, float]]:
    """(ion mass, expected area) of every isotope of the elements in ``totals``."""
    charge = polarity_charge(polarity)
    return [
        (iso.mass_u - charge * ELECTRON_MASS_U, totals[iso.element] * iso.abundance)
        for iso in ISOTOPES.values()
        if iso.element in totals
    ]
