"""Ion-induced secondary-electron imaging of the current face.

Why this model: docs/physics.md's SEM-simulator signal, N = (I tau / e) * delta * eps per pixel and
frame, with delta the SE yield under the beam. delta is the phase's yield (ion-induced contrast;
nearly nothing where a milled feature leaves vacuum in the face) times 1 + c g for the primary
grain's orientation g (channelling), raised on the solid rim next to a pore, crack or groove
(edge brightening), modulated by the curtains left on the face and raised by the secant law of
the beam's incidence on the face (:func:`se_incidence_factor`, the stage tilt sets the angle:
:mod:`fibsims_twin.geometry`). The expected image is
blurred by the beam spot of the selected current (widened by the defocus left since the last
autofocus), then shot and amplifier noise are drawn once on the frame sum, and the video
amplifier applies the contrast (gain) and brightness (offset) settings (:mod:`fibsims_twin.video`).
I is the delivered current (rung x emission) and the field is where drift and the stage put it
(:func:`fibsims_twin.scan.plan_acquisition`). Imaging sputters the face by its dose, at the NMC
rate for its incidence.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from fibsims.instrument import Image, InstrumentError, ScanRequest, SEDetector
from fibsims_twin import parallel, video
from fibsims_twin.curtains import curtain_profile
from fibsims_twin.device import DeviceContext, ScanningDevice
from fibsims_twin.face import FaceTruth
from fibsims_twin.geometry import scan_incidence_deg
from fibsims_twin.materials import Material, label_value, volume_per_dose_by_label
from fibsims_twin.milling import curtain_severity, sputter_depth_um
from fibsims_twin.noise import blur, shot_noise, standard_normals
from fibsims_twin.parameters import RAD_PER_DEG, IncidenceParameters, TwinParameters
from fibsims_twin.scan import Acquisition, check_scan, plan_acquisition
from fibsims_twin.sputtering import SputterModel
from fibsims_twin.timing import scan_rate_um3_per_nc

IMAGE_STREAM = "se_detector.image"
CURTAIN_PROFILE_ROWS = 256  # numerical: rows sampled for the phase share of each column


def se_yield_by_label(p: TwinParameters) -> np.ndarray:
    """SE yield (electrons per ion) indexed by material label."""
    d = p.detector
    table = np.zeros(len(Material), dtype=np.float32)
    table[Material.PORE] = d.se_yield_pore_filler_per_ion
    table[Material.NMC811] = d.se_yield_nmc811_per_ion
    table[Material.CBD] = d.se_yield_cbd_per_ion
    table[Material.VACUUM] = d.se_yield_vacuum_per_ion
    return table


def se_incidence_factor(incidence_deg: float, p: IncidenceParameters) -> float:
    """delta(theta) / delta(0) = 1 / cos(theta)^n (the secant law), held beyond the largest
    angle it is trusted to."""
    theta = min(abs(incidence_deg), p.se_yield_max_incidence_deg) * RAD_PER_DEG
    return math.cos(theta) ** -p.se_yield_secant_exponent


def solid_rim(labels: np.ndarray, vacuum: bool = False) -> np.ndarray:
    """1 on solid pixels with a pore (or, if ``vacuum``, a vacuum) 4-neighbour, else 0 (uint8;
    image borders count as solid): solid minus the minimum of solid over the pixel and its
    neighbours. ``vacuum`` says whether the face holds any vacuum (a milled feature)."""
    solid = (labels != label_value(Material.PORE)).view(np.uint8)
    if vacuum:
        solid &= (labels != label_value(Material.VACUUM)).view(np.uint8)
    low = solid.copy()
    np.minimum(low[1:], solid[:-1], out=low[1:])
    np.minimum(low[:-1], solid[1:], out=low[:-1])
    np.minimum(low[:, 1:], solid[:, :-1], out=low[:, 1:])
    np.minimum(low[:, :-1], solid[:, 1:], out=low[:, :-1])
    solid -= low
    return solid


def _draw_normals(
    rng: np.random.Generator, shape: tuple[int, int]
) -> tuple[np.ndarray, np.random.Generator]:
    """An image's first draw, and the generator its next draws continue from."""
    return standard_normals(rng, shape), rng


class TwinSEDetector(ScanningDevice, SEDetector):
    """The simulated SE detector, scanning with the column's selected current."""

    def __init__(self, context: DeviceContext) -> None:
        super().__init__(context)
        parameters = context.parameters
        yields = se_yield_by_label(parameters)
        rim_gain = 1 + np.float32(parameters.detector.edge_brightening_gain)
        self._yield_table = np.concatenate([yields, yields * rim_gain]).astype(np.float32)
        yv = volume_per_dose_by_label(parameters.materials)
        self._fast_share = (yv / yv[Material.NMC811] - 1.0).astype(np.float32)
        self._fast_share[Material.VACUUM] = 0.0  # a groove's own curtains are not modelled
        self._sputter = SputterModel(parameters.column, parameters.materials)
        self.last_face: FaceTruth | None = None

    def contrast(self) -> float:
        return self._state.se_contrast

    def set_contrast(self, value: float) -> None:
        """Set the video gain: 2^((value - c0) x k), see :mod:`fibsims_twin.video`."""
        self._state.se_contrast = video.check_setting("contrast", value)

    def brightness(self) -> float:
        return self._state.se_brightness

    def set_brightness(self, value: float) -> None:
        """Set the video offset: (value - b0) x full scale, see :mod:`fibsims_twin.video`."""
        self._state.se_brightness = video.check_setting("brightness", value)

    def plan(self, request: ScanRequest) -> Acquisition:
        """Where and how a scan started now lands on the sample (twin-only)."""
        p = self._p
        return plan_acquisition(
            request,
            self._state,
            self._slow,
            self._clock.now_s(),
            p.detector.line_flyback_s,
            p.column,
            p.stage,
        )

    def expected_counts(self, request: ScanRequest) -> np.ndarray:
        """Mean detected counts per pixel of a scan started now (frame sum, float32), with the
        spot blur; what :meth:`acquire_image` draws its noise on, before the video amplifier's
        gain and offset (twin-only)."""
        acquisition = self.plan(request)
        (face,) = self.faces([self._state.sample_face_z_um], acquisition.x_um, acquisition.y_um)
        return self._expected(acquisition, face)

    def _expected(self, acquisition: Acquisition, face: FaceTruth) -> np.ndarray:
        d = self._p.detector
        labels = face.labels
        # the grain factor needs the grains only: the worker thread computes it meanwhile
        contrast = d.grain_channelling_contrast
        channelling = parallel.beside(
            face.grain_factor, contrast, fallback=lambda: face.grain_factor(contrast)
        )
        # one lookup for the phase yield and the rim gain: index = label + phases x rim
        index = solid_rim(labels, vacuum=len(self._state.features) > 0)
        index *= np.uint8(len(Material))
        index += labels
        delta = self._yield_table.take(index)
        nmc = labels == label_value(Material.NMC811)
        severity = curtain_severity(self._state.curtain, self._p.milling, self._sputter.nmc)
        rows = labels[:: max(1, labels.shape[0] // CURTAIN_PROFILE_ROWS)]
        fast_share = self._fast_share.take(rows).mean(axis=0)
        sample_x = acquisition.x_um + self._p.phantom.origin_offset_um[0]
        stripes = curtain_profile(
            fast_share, sample_x, self._phantom.seed, severity, self._p.milling
        )
        stripes += 1
        np.maximum(stripes, 0, out=stripes)  # a groove cannot emit less than nothing
        incidence = se_incidence_factor(scan_incidence_deg(self._state.stage), self._p.incidence)
        stripes *= np.float32(acquisition.primaries_per_pixel * d.detection_efficiency * incidence)
        factor = channelling.result()

        def rows(band: slice) -> None:  # elementwise, in bands on both threads
            part = delta[band]
            np.multiply(part, factor[band], out=part, where=nmc[band])
            part *= stripes[None, :]

        parallel.bands(delta.shape[0], rows, delta.size)
        return blur(delta, acquisition.sigma_px, self._p.noise)

    def acquire_image(self, request: ScanRequest) -> Image:
        state, d = self._state, self._p.detector
        if state.blanked:
            raise InstrumentError(
                "cannot image: the beam is blanked; call column.unblank() before acquire_image"
            )
        caps = self._capabilities
        check_scan(request, caps.se_scan, caps.max_field_width_um, "SE image")
        acquisition = self.plan(request)
        face_z_um = state.sample_face_z_um
        # the image's first draw (a normal value per pixel) needs nothing but its stream: the
        # worker thread makes it, from a copy of the generator, while this one computes the
        # face and the expected counts; the rest of the image's draws continue from whichever
        # generator made it (a stalled worker's copy is dropped, and the draw made here)
        rng = self._streams.at_position(IMAGE_STREAM, state.face_z_um)
        shape = (acquisition.y_um.size, acquisition.x_um.size)
        first_draw = parallel.beside(
            _draw_normals, copy.deepcopy(rng), shape, fallback=lambda: _draw_normals(rng, shape)
        )
        (face,) = self.faces([face_z_um], acquisition.x_um, acquisition.y_um)
        expected = self._expected(acquisition, face)
        amplifier = request.frames * d.amplifier_noise_counts**2
        normals, rng = first_draw.result()
        counts = shot_noise(rng, expected, self._p.noise, extra_variance=amplifier, normals=normals)
        video.amplify(counts, state.se_contrast, state.se_brightness, d)
        saturated_fraction = 0.0
        if counts.max() > d.max_counts:
            saturated_fraction = float(np.count_nonzero(counts > d.max_counts)) / counts.size
            np.minimum(counts, d.max_counts, out=counts)
        self._clock.sleep(acquisition.duration_s)
        depth_um = sputter_depth_um(
            acquisition.charge_nc,
            acquisition.area_um2,
            scan_rate_um3_per_nc(self._sputter, state.stage),
        )
        state.sample_face_z_um += depth_um
        state.last_geometry = acquisition.geometry(face_z_um + depth_um / 2)
        self.last_face = face
        return Image(
            pixels=counts.astype(np.uint16),
            pixel_size_nm=acquisition.pixel_size_nm,
            dwell_us=request.dwell_us,
            frames=request.frames,
            current_na=state.current_na,
            duration_s=acquisition.duration_s,
            saturated_fraction=saturated_fraction,
        )
