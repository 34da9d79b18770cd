"""ToF-SIMS raster of the current face: per-peak count maps, the sum spectrum, saturation.

Why this model: the ions each pixel sends to a peak follow :mod:`fibsims_twin.tof_counts`
(dose x sputter yield x atomic fraction x useful yield x abundance x transmission x duty cycle,
summed over the depth the raster sputters), blurred by the beam spot at the SIMS current. The
TOF extracts at a fixed rate, n = rate x dwell x frames extractions per pixel, and counts at most
one ion of a peak per extraction (non-paralysable dead time, physics.md): the observed count is
Binomial(n, w (1 - exp(-N / n))), w = erf(sqrt(ln 2)) = 0.761 the share of a Gaussian peak
inside its integration window m +- FWHM / 2. A scan line is flagged saturated when any peak
loses more than ``saturation_loss_threshold`` of its counts on it.

The sum spectrum carries every isotope of the mapped elements with the same dead time (areas
n (1 - exp(-N / n)) summed over pixels), Xe+ and Xe2+ from the primaries (positive polarity) and
a flat background, Poisson sampled. Rastering sputters the face by its dose.

Where a milled feature leaves vacuum in the face, nothing is sputtered: no secondary ions and
no Xe+ (the primaries go down the groove); a pixel that is vacuum in some of the sublayers
sends the share of the others.

The sample's molecular, fragment and contamination ions, and the counts they add to a mapped
peak whose window they fall in (58NiH+ in 59Co+): :mod:`fibsims_twin.spectrum_lines`.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims.instrument import (
    InstrumentError,
    Polarity,
    Raster,
    RasterRequest,
    ScanRequest,
    TofSpectrometer,
)
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.device import DeviceContext, ScanningDevice
from fibsims_twin.face import FaceTruth
from fibsims_twin.materials import Material, sputter_yields_by_label
from fibsims_twin.milling import sputter_depth_um
from fibsims_twin.noise import blur, expected_extraction_counts, extraction_counts
from fibsims_twin.parameters import SECOND_PER_MICROSECOND
from fibsims_twin.scan import Acquisition, check_scan, plan_acquisition
from fibsims_twin.spectrum import sum_spectrum
from fibsims_twin.spectrum_lines import ExtraIons, RasterSources
from fibsims_twin.tof_counts import (
    PRIMARY_ELEMENT,
    DepthStack,
    integration_window,
    parse_peaks,
    polarity_charge,
    useful_yield,
)

RASTER_STREAM = "tof.raster"
WINDOW_FRACTION = math.erf(math.sqrt(math.log(2.0)))  # Gaussian area within +- FWHM / 2
XE_DOUBLY_CHARGED = 2


class TwinTofSpectrometer(ScanningDevice, TofSpectrometer):
    """The simulated ToF-SIMS, rastering with the column's selected current."""

    def __init__(self, context: DeviceContext) -> None:
        super().__init__(context)
        parameters = context.parameters
        self._sputter_yields = sputter_yields_by_label(parameters.materials)
        self.last_stack: DepthStack | None = None

    def extractions_per_pixel(self, dwell_us: float, frames: int) -> int:
        """TOF extractions while the beam dwells on one pixel over all frames (at least 1)."""
        seconds = dwell_us * SECOND_PER_MICROSECOND * frames
        return max(1, round(self._p.tof.extraction_rate_hz * seconds))

    def plan(self, scan: ScanRequest) -> Acquisition:
        """Where and how a raster scan started now lands on the sample (twin-only)."""
        p = self._p
        return plan_acquisition(
            scan,
            self._state,
            self._slow,
            self._clock.now_s(),
            p.tof.line_flyback_s,
            p.column,
            p.stage,
        )

    def acquire_raster(self, request: RasterRequest) -> Raster:
        state, p, scan = self._state, self._p, request.scan
        tof = p.tof
        if state.blanked:
            raise InstrumentError(
                "cannot raster: the beam is blanked; call column.unblank() before acquire_raster"
            )
        check_scan(scan, p.detector.min_dwell_us, "SIMS raster")
        ions = parse_peaks(tuple(request.peaks), request.polarity)
        acquisition = self.plan(scan)
        depth_um = sputter_depth_um(
            acquisition.charge_nc, acquisition.area_um2, p.materials.nmc_volume_per_dose_um3_per_nc
        )
        layers = p.noise.raster_depth_samples
        face_z_um = state.sample_face_z_um
        faces = self.faces(
            [face_z_um + (k + 0.5) / layers * depth_um for k in range(layers)],
            acquisition.x_um,
            acquisition.y_um,
        )
        stack = DepthStack.sample(faces, acquisition.primaries_per_pixel, self._sputter_yields)
        solid_share = _solid_share(faces) if len(state.features) else None

        # ions per pixel reaching the detector over a whole peak (all isotopes), per element
        efficiency = tof.transmission * tof.extraction_duty_cycle
        detected = {
            element: stack.sputtered_atoms(element)
            * np.float32(useful_yield(element, request.polarity, tof) * efficiency)
            for element in dict.fromkeys(ion.isotope.element for ion in ions)
            if element != PRIMARY_ELEMENT
        }
        positive = polarity_charge(request.polarity) > 0
        xe_per_pixel = (
            acquisition.primaries_per_pixel * tof.xe_counts_per_primary * efficiency
            if positive
            else 0.0
        )
        n = self.extractions_per_pixel(scan.dwell_us, scan.frames)
        extra = self._extra_ions(request.polarity, stack, detected, efficiency, n)
        rng = self._streams.at_position(RASTER_STREAM, state.face_z_um)
        shape = faces[0].shape
        maps = np.empty((len(ions), *shape), dtype=np.uint32)
        saturated = np.zeros(shape[0], dtype=bool)
        areas: dict[str, float] = {}
        for k, ion in enumerate(ions):
            element = ion.isotope.element
            if element == PRIMARY_ELEMENT:
                rate = np.full(shape, xe_per_pixel * ion.isotope.abundance, dtype=np.float32)
                if solid_share is not None:
                    rate *= solid_share
            else:
                rate = detected[element] * np.float32(ion.isotope.abundance)
                interfering = extra.window_rate(ion.mass_u) if extra is not None else None
                if interfering is not None:
                    rate = rate + interfering
                rate = blur(rate, acquisition.sigma_px, p.noise)
            maps[k] = extraction_counts(rng, rate, n, WINDOW_FRACTION, p.noise)
            observed = expected_extraction_counts(rate, n)
            true_line = rate.sum(axis=1, dtype=np.float64)
            loss = 1.0 - observed.sum(axis=1, dtype=np.float64) / np.maximum(true_line, 1e-300)
            saturated |= (true_line > 0) & (loss > tof.saturation_loss_threshold)
            areas[ion.label] = float(observed.sum(dtype=np.float64))

        peaks = self._spectral_peaks(
            request.polarity, ions, detected, areas, xe_per_pixel, n, shape, solid_share
        )
        if extra is not None:
            peaks += extra.peaks()
        background = tof.background_counts_per_sample_per_s * acquisition.duration_s
        spectrum = sum_spectrum(rng, peaks, background, tof)
        self._clock.sleep(acquisition.duration_s)
        state.sample_face_z_um += depth_um
        state.last_geometry = acquisition.geometry(face_z_um + depth_um / 2)
        self.last_stack = stack
        return Raster(
            peaks=tuple(integration_window(ion, tof) for ion in ions),
            count_maps=maps,
            spectrum=spectrum,
            pixel_size_nm=acquisition.pixel_size_nm,
            dwell_us=scan.dwell_us,
            frames=scan.frames,
            current_na=state.current_na,
            duration_s=acquisition.duration_s,
            saturated_lines=saturated.astype(np.uint8),
            extraction_rate_hz=tof.extraction_rate_hz,
            peak_window_fraction=WINDOW_FRACTION,
        )

    def _extra_ions(
        self,
        polarity: Polarity,
        stack: DepthStack,
        detected: dict[str, np.ndarray],
        efficiency: float,
        extractions: int,
    ) -> ExtraIons | None:
        """The sum spectrum's molecular, fragment and contamination ions (positive polarity),
        their sources the atomic ions as counted here and the phases' sputtered atoms, their
        areas under the same detection law as the mapped peaks."""
        if polarity_charge(polarity) < 0:
            return None
        tof = self._p.tof

        def atomic_ion_rate(element: str) -> np.ndarray:
            if element in detected:
                return detected[element]
            yield_ = useful_yield(element, polarity, tof) * efficiency
            return stack.sputtered_atoms(element) * np.float32(yield_)

        return ExtraIons(
            RasterSources(stack, atomic_ion_rate, tof),
            lambda mass_u: np.full_like(mass_u, efficiency, dtype=np.float64),
            lambda rate: expected_extraction_counts(rate, extractions),
            tof,
            drawn_elements=frozenset(detected),
        )

    def _spectral_peaks(
        self,
        polarity: Polarity,
        ions: list,
        detected: dict[str, np.ndarray],
        mapped_areas: dict[str, float],
        xe_per_pixel: float,
        extractions: int,
        shape: tuple[int, int],
        solid_share: np.ndarray | None,
    ) -> list[tuple[float, float]]:
        """(mass per charge, expected area) of every isotope of the mapped elements, Xe+ and
        Xe2+ (positive polarity), each under the dead time. Mapped peaks reuse their maps'
        (blurred) areas, so spectrum and maps agree. ``solid_share`` (H, W): the share of the
        sputtered depth that is not vacuum, None where all of it is solid."""
        charge = polarity_charge(polarity)
        labels = {ion.isotope: ion.label for ion in ions}
        peaks = []
        for iso in ISOTOPES.values():
            ion_mass = iso.mass_u - charge * ELECTRON_MASS_U
            if iso in labels:
                peaks.append((ion_mass, mapped_areas[labels[iso]]))
            elif iso.element in detected:
                rate = detected[iso.element] * np.float32(iso.abundance)
                area = expected_extraction_counts(rate, extractions).sum(dtype=np.float64)
                peaks.append((ion_mass, float(area)))
            if iso.element == PRIMARY_ELEMENT and charge > 0:
                pixels = shape[0] * shape[1]
                for z, share in (
                    (1, 1.0),
                    (XE_DOUBLY_CHARGED, self._p.tof.xe_doubly_charged_ratio),
                ):
                    if z == 1 and iso in labels:
                        continue
                    rate = np.float32(xe_per_pixel * iso.abundance * share)
                    if solid_share is None:
                        area = float(expected_extraction_counts(rate, extractions)) * pixels
                    else:
                        area = float(
                            expected_extraction_counts(rate * solid_share, extractions).sum(
                                dtype=np.float64
                            )
                        )
                    peaks.append(((iso.mass_u - z * ELECTRON_MASS_U) / z, area))
        return peaks


def _solid_share(faces: list[FaceTruth]) -> np.ndarray:
    """Per pixel, the share of the sublayers that hold material (not vacuum), float32."""
    solid = sum((face.labels != Material.VACUUM).astype(np.float32) for face in faces)
    return (solid / np.float32(len(faces))).astype(np.float32)
