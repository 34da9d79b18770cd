"""Ion-induced secondary-electron imaging of the current face.

Why this model: physics.md's SEM-simulator signal, N = (I tau / e) * delta * eps per pixel and
frame, with delta the SE yield of the phase under the beam. The expected image is blurred by the
beam spot of the selected current, then shot noise is drawn once on the frame sum. Contrast
therefore comes only from the phases (not from Li) and scales with current * dwell * frames.
"""

from __future__ import annotations

import numpy as np

from fibsims.instrument import Image, InstrumentError, ScanRequest, SEDetector
from fibsims_twin.clock import VirtualClock
from fibsims_twin.materials import Material
from fibsims_twin.noise import blur, shot_noise
from fibsims_twin.parameters import ColumnParameters, DetectorParameters, NoiseParameters
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
from fibsims_twin.state import TwinState

IMAGE_STREAM = "se_detector.image"


def se_yield_by_label(p: DetectorParameters) -> np.ndarray:
    """SE yield (electrons per ion) indexed by material label."""
    table = np.zeros(len(Material))
    table[Material.PORE] = p.se_yield_pore_filler_per_ion
    table[Material.NMC811] = p.se_yield_nmc811_per_ion
    table[Material.CBD] = p.se_yield_cbd_per_ion
    return table


class TwinSEDetector(SEDetector):
    """The simulated SE detector, scanning with the column's selected current."""

    def __init__(
        self,
        state: TwinState,
        clock: VirtualClock,
        streams: RandomStreams,
        phantom: Phantom,
        parameters: DetectorParameters,
        column: ColumnParameters,
        noise: NoiseParameters,
    ) -> None:
        self._state = state
        self._clock = clock
        self._streams = streams
        self._phantom = phantom
        self._p = parameters
        self._column = column
        self._noise = noise
        self._yields = se_yield_by_label(parameters)

    def expected_counts(self, request: ScanRequest) -> np.ndarray:
        """Mean detected counts per pixel (frame sum, before blur and noise), float32."""
        state = self._state
        x, y = pixel_axes(request, state.field_centre_um())
        labels = self._phantom.face(state.face_z_um, x, y).labels
        primaries = primaries_per_pixel(state.current_na, request.dwell_us, request.frames)
        table = (self._yields * primaries * self._p.detection_efficiency).astype(np.float32)
        return table[labels]

    def acquire_image(self, request: ScanRequest) -> Image:
        state = self._state
        if state.blanked:
            raise InstrumentError(
                "cannot image: the beam is blanked; call column.unblank() before acquire_image"
            )
        check_scan(request, self._p.min_dwell_us, "SE image")
        size_nm = pixel_size_nm(request)
        sigma_px = spot_sigma_px(state.current_na, size_nm, self._column)
        expected = blur(self.expected_counts(request), sigma_px, self._noise)
        rng = self._streams.at_position(IMAGE_STREAM, state.face_z_um)
        counts = shot_noise(rng, expected, self._noise)
        over = counts > self._p.max_counts
        saturated_fraction = float(np.count_nonzero(over)) / counts.size
        np.minimum(counts, self._p.max_counts, out=counts)
        duration_s = scan_duration_s(
            request.resolution_px, request.dwell_us, request.frames, self._p.line_flyback_s
        )
        self._clock.sleep(duration_s)
        return Image(
            pixels=counts.astype(np.uint16),
            pixel_size_nm=size_nm,
            dwell_us=request.dwell_us,
            frames=request.frames,
            current_na=state.current_na,
            duration_s=duration_s,
            saturated_fraction=saturated_fraction,
        )
