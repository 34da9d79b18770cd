"""ToF-SIMS raster of the current face: per-peak count maps, the sum spectrum, saturation.

Why this model: the ions each pixel sends to a peak follow :mod:`fibsims_twin.tof_counts`
(dose x sputter yield x atomic fraction x ion yield with its matrix effect x abundance x
transmission x the duty cycle D(m) of the isotope's mass, summed over the depth the raster
sputters and averaged over the pixel's area), blurred by the beam spot at the SIMS current. The
TOF extracts at a fixed rate, n = rate x dwell x frames extractions per pixel, and its ADC
records every ion of a peak in an extraction up to the digitiser's range
(:mod:`fibsims_twin.digitiser`); the window m +- FWHM / 2 holds the share w of a peak that its
tailed shape puts there (:func:`fibsims_twin.peak_shape.peak_window_fraction`: 0.699 at the
default tail, against erf(sqrt(ln 2)) = 0.761 for a bare Gaussian), the same shape the sum
spectrum draws. A scan line is flagged saturated when any peak loses more than
``saturation_loss_threshold`` of its counts on it. The raster reports what inverting that
needs: the extraction rate, the window share, the digitiser's range in ions and each peak's
duty cycle.

Each pixel's dose sputters a depth that follows its phase (volume per dose of NMC, CBD or
epoxy, averaged over the pixel's samples: ``DepthStack.sputtered_depth_um``), and the atoms
it sends follow the sputter yield of the phase at each sample. The twin's face is one plane:
it advances by the depth of the least-receded phase on the field (NMC's wherever NMC is
present, ``DepthStack.face_advance_um`` says why not the area mean), and the sublayers are
sampled at the mid-depths of NMC's depth, where the Li and transition metals are.

The sum spectrum carries every isotope of the mapped elements under the same detection law
(whole-peak areas scaled by the share the digitiser recorded), Xe+ and Xe2+ from the primaries
(positive polarity), the sample's molecular, fragment and contamination ions and a flat
background, Poisson sampled. The extra ions (:mod:`fibsims_twin.spectrum_lines`) go through the
same chain: ion yield with its matrix effect, transmission, the duty cycle of their own mass and
the digitiser; those inside a mapped peak's window (58NiH+ in 59Co+ at R = 800) are counted in
its map, in the map's units (ions of the mapped mass through its duty cycle) before the blur.

Where a milled feature leaves vacuum in the face, nothing is sputtered: no secondary ions and
no Xe+ (the primaries go down the groove); a pixel that is vacuum in some of its samples sends
the share of the others.
"""

from __future__ import annotations

import numpy as np

from fibsims.instrument import (
    InstrumentError,
    Polarity,
    Raster,
    RasterRequest,
    ScanRequest,
    TofSpectrometer,
)
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES, PeakIon
from fibsims_twin import parallel
from fibsims_twin.device import DeviceContext, ScanningDevice
from fibsims_twin.digitiser import digitised_counts, recorded_mean
from fibsims_twin.geometry import scan_incidence_deg
from fibsims_twin.ion_catalogue import mean_isotope_mass_u
from fibsims_twin.ion_yields import duty_cycle, duty_cycles
from fibsims_twin.materials import Material, sputter_yields_by_label
from fibsims_twin.noise import blur
from fibsims_twin.parameters import NM_PER_UM, SECOND_PER_MICROSECOND
from fibsims_twin.peak_shape import peak_window_fraction
from fibsims_twin.scan import Acquisition, check_scan, plan_acquisition
from fibsims_twin.spectrum import sum_spectrum
from fibsims_twin.spectrum_lines import ExtraIons, RasterSources
from fibsims_twin.sputtering import SputterModel
from fibsims_twin.tof_counts import (
    PRIMARY_ELEMENT,
    DepthStack,
    integration_window,
    parse_peaks,
    polarity_charge,
    subpixel_axis,
)

RASTER_STREAM = "tof.raster"
XE_DOUBLY_CHARGED = 2


class TwinTofSpectrometer(ScanningDevice, TofSpectrometer):
    """The simulated ToF-SIMS, rastering with the column's selected current."""

    def __init__(self, context: DeviceContext) -> None:
        super().__init__(context)
        parameters = context.parameters
        self._sputter = SputterModel(parameters.column, parameters.materials)
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
        caps = self._capabilities
        assert caps.sims_scan is not None  # the twin always has its spectrometer
        check_scan(scan, caps.sims_scan, caps.max_field_width_um, "SIMS raster")
        ions = parse_peaks(tuple(request.peaks), request.polarity)
        acquisition = self.plan(scan)
        dose_per_area = acquisition.charge_nc / acquisition.area_um2
        # each phase's volume per dose at the beam's incidence on the face (the stage tilt)
        volume_per_dose = self._sputter.volume_per_dose_by_label(scan_incidence_deg(state.stage))
        sputter_yields = sputter_yields_by_label(p.materials, volume_per_dose)
        reference_depth_um = dose_per_area * volume_per_dose[Material.NMC811]
        layers = p.noise.raster_depth_samples
        k = p.noise.raster_subpixel_samples
        face_z_um = state.sample_face_z_um
        pixel_um = acquisition.pixel_size_nm / NM_PER_UM
        faces = self.faces(
            [face_z_um + (i + 0.5) / layers * reference_depth_um for i in range(layers)],
            subpixel_axis(acquisition.x_um, pixel_um, k),
            subpixel_axis(acquisition.y_um, pixel_um, k),
        )
        stack = DepthStack.sample(faces, acquisition.primaries_per_pixel, sputter_yields, k)
        solid_share = stack.solid_share() if len(state.features) else None

        # ions per pixel of each element leaving the sample and transmitted, before the duty
        # cycle of the isotope's mass
        transmitted = self._transmitted(
            stack,
            [e for e in dict.fromkeys(ion.isotope.element for ion in ions) if e != PRIMARY_ELEMENT],
            request.polarity,
        )
        positive = polarity_charge(request.polarity) > 0
        xe_per_pixel = (
            acquisition.primaries_per_pixel * tof.xe_ions_per_primary * tof.transmission
            if positive
            else 0.0
        )
        n = self.extractions_per_pixel(scan.dwell_us, scan.frames)
        max_ions = tof.max_ions_per_extraction
        window = peak_window_fraction(tof)
        extra = self._extra_ions(request.polarity, stack, transmitted, n)
        rng = self._streams.at_position(RASTER_STREAM, state.face_z_um)
        shape = stack.shape
        maps = np.empty((len(ions), *shape), dtype=np.uint32)
        saturated = np.zeros(shape[0], dtype=bool)
        areas: dict[str, float] = {}
        duty_cycles = []

        def peak_rate(ion: PeakIon) -> tuple[float, np.ndarray, np.ndarray, float]:
            """A map's expected ions per pixel, the lines its digitiser saturates and its
            recorded area: all but the draw, so the worker computes the next map's while this
            thread draws the current one (the maps' window_rate calls stay in order)."""
            element = ion.isotope.element
            duty = duty_cycle(ion.mass_u, tof)
            if element == PRIMARY_ELEMENT:
                rate = np.full(shape, xe_per_pixel * ion.isotope.abundance * duty, dtype=np.float32)
                if solid_share is not None:
                    rate *= solid_share
            else:
                rate = transmitted[element] * np.float32(ion.isotope.abundance * duty)
                interfering = extra.window_rate(ion.mass_u) if extra is not None else None
                if interfering is not None:
                    rate += interfering
                rate = blur(rate, acquisition.sigma_px, p.noise)
            recorded = recorded_mean(rate, n, window, max_ions, p.noise)
            true_line = rate.sum(axis=1, dtype=np.float64) * window
            loss = 1.0 - recorded.sum(axis=1, dtype=np.float64) / np.maximum(true_line, 1e-300)
            lines = (true_line > 0) & (loss > tof.saturation_loss_threshold)
            return duty, rate, lines, float(recorded.sum(dtype=np.float64)) / window

        upcoming = parallel.beside(peak_rate, ions[0])  # no fallback: window_rate runs once
        for index, ion in enumerate(ions):
            duty, rate, lines, area = upcoming.result()
            if index + 1 < len(ions):
                upcoming = parallel.beside(peak_rate, ions[index + 1])
            duty_cycles.append(duty)
            maps[index] = digitised_counts(rng, rate, n, window, max_ions, p.noise)
            saturated |= lines
            areas[ion.label] = area

        peaks = self._spectral_peaks(
            request.polarity, ions, transmitted, areas, xe_per_pixel, n, shape, solid_share
        )
        if extra is not None:
            peaks += extra.peaks()
        background = tof.background_counts_per_sample_per_s * acquisition.duration_s
        spectrum = sum_spectrum(rng, peaks, background, tof)
        self._clock.sleep(acquisition.duration_s)
        face_advance_um = stack.face_advance_um(volume_per_dose * dose_per_area)
        state.sample_face_z_um += face_advance_um
        state.last_geometry = acquisition.geometry(face_z_um + face_advance_um / 2)
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
            peak_window_fraction=window,
            max_ions_per_extraction=max_ions,
            duty_cycles=tuple(duty_cycles),
        )

    def _transmitted(
        self, stack: DepthStack, elements: list[str], polarity: Polarity
    ) -> dict[str, np.ndarray]:
        """Per element, the ions each pixel emits and the spectrometer transmits (before the
        duty cycle), every other element computed on the worker thread: an element's map
        reads only the faces (their Li content computed first, shared) and its own fractions.
        """
        tof = self._p.tof

        def ions(element: str) -> np.ndarray:
            return stack.emitted_ions(element, polarity, tof) * np.float32(tof.transmission)

        nmc = self._phantom.composition.nmc_per_formula
        if len(elements) > 1 and any(e == "Li" or e in nmc for e in elements):
            for face in stack.faces:
                face.soc  # noqa: B018 (computed once, here, before both threads read it)
        pending = {
            element: parallel.beside(ions, element, fallback=lambda e=element: ions(e))
            for element in elements[1::2]
        }
        done = {element: ions(element) for element in elements[0::2]}
        return {e: done[e] if e in done else pending[e].result() for e in elements}

    def _peak_law(self, rate: np.ndarray, extractions: int) -> np.ndarray:
        """Per pixel, the whole-peak counts the digitiser records for ``rate`` ions of the peak
        (after transmission and duty cycle): what its window recorded over the window's share
        (float32)."""
        tof = self._p.tof
        window = peak_window_fraction(tof)
        recorded = recorded_mean(
            rate, extractions, window, tof.max_ions_per_extraction, self._p.noise
        )
        return recorded / np.float32(window)

    def _peak_area(self, rate: np.ndarray, extractions: int) -> float:
        """The whole-peak area the digitiser records for ``rate`` ions per pixel."""
        return float(self._peak_law(rate, extractions).sum(dtype=np.float64))

    def _extra_ions(
        self,
        polarity: Polarity,
        stack: DepthStack,
        transmitted: dict[str, np.ndarray],
        extractions: int,
    ) -> ExtraIons | None:
        """The sum spectrum's molecular, fragment and contamination ions (positive polarity).

        Their sources: the oxide's atomic ions per pixel as the maps count them (ion yield with
        its matrix effect, transmission; ``transmitted`` for the mapped elements, the same
        :meth:`DepthStack.emitted_ions` for the others) taken through the duty cycle of the
        element's mean isotope mass, and the phases' sputtered atoms. Their efficiency is
        transmission x D(m) at each line's own mass, so a cluster of M is its ratio x M+ x
        D(m) / D(m_M), and an atomic ion's isotopes are exactly the maps' rates. Their areas
        follow the mapped peaks' per-pixel law (:meth:`_peak_law`). ``drawn_elements`` are
        the elements whose isotopes :meth:`_spectral_peaks` draws already."""
        if polarity_charge(polarity) < 0:
            return None
        tof = self._p.tof

        def atomic_ion_rate(element: str) -> np.ndarray:
            ions = transmitted.get(element)
            if ions is None:
                ions = stack.emitted_ions(element, polarity, tof) * np.float32(tof.transmission)
            return ions * np.float32(duty_cycle(mean_isotope_mass_u(element), tof))

        return ExtraIons(
            RasterSources(stack, atomic_ion_rate, tof),
            lambda mass_u: tof.transmission * duty_cycles(mass_u, tof),
            lambda rate: self._peak_law(rate, extractions),
            tof,
            drawn_elements=frozenset(transmitted),
        )

    def _spectral_peaks(
        self,
        polarity: Polarity,
        ions: list,
        transmitted: dict[str, np.ndarray],
        mapped_areas: dict[str, float],
        xe_per_pixel: float,
        extractions: int,
        shape: tuple[int, int],
        solid_share: np.ndarray | None,
    ) -> list[tuple[float, float]]:
        """(mass per charge, expected area) of every isotope of the mapped elements, Xe+ and
        Xe2+ (positive polarity), each through the duty cycle of its mass and the digitiser.
        Mapped peaks reuse their maps' (blurred) areas, so spectrum and maps agree.
        ``transmitted``: per element, ions per pixel before the duty cycle; ``solid_share``
        (H, W): the share of the pixel's samples that are not vacuum, None where all are
        solid."""
        tof = self._p.tof
        charge = polarity_charge(polarity)
        labels = {ion.isotope: ion.label for ion in ions}
        peaks = []
        for iso in ISOTOPES.values():
            ion_mass = iso.mass_u - charge * ELECTRON_MASS_U
            if iso in labels:
                peaks.append((ion_mass, mapped_areas[labels[iso]]))
            elif iso.element in transmitted:
                share = np.float32(iso.abundance * duty_cycle(ion_mass, tof))
                peaks.append(
                    (ion_mass, self._peak_area(transmitted[iso.element] * share, extractions))
                )
            if iso.element == PRIMARY_ELEMENT and charge > 0:
                pixels = shape[0] * shape[1]
                for z, share in (
                    (1, 1.0),
                    (XE_DOUBLY_CHARGED, tof.xe_doubly_charged_ratio),
                ):
                    if z == 1 and iso in labels:
                        continue
                    mass = (iso.mass_u - z * ELECTRON_MASS_U) / z
                    rate = np.float32(xe_per_pixel * iso.abundance * share * duty_cycle(mass, tof))
                    if solid_share is None:
                        area = self._peak_area(np.full(1, rate), extractions) * pixels
                    else:
                        area = self._peak_area(rate * solid_share, extractions)
                    peaks.append((mass, area))
        return peaks
