"""Scan geometry and timing shared by the SE detector, the ToF raster and the autofocus.

Why shared: an ion image and a SIMS raster are the same beam scan with different detectors, so
their pixel grid, their duration, the part of the sample they see and their refusal of a bad
request must agree. The duration is :func:`fibsims_twin.timing.scan_duration_s`, which the cost
model quotes too.

Where the field lies in the sample: centred on the beam frame's origin as
:mod:`fibsims_twin.frames` places it (stage + beam shift - drift, moved by the stage's rotation
error). Drift and dose are taken at the middle of the scan (a frame of the default image takes
~5 s, in which the drift moves well under a nanometre), and so is the defocus (the presets'
wander less the last autofocus correction). :meth:`Acquisition.geometry` reports all of it as
ground truth (``GroundTruth.last_geometry``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fibsims.instrument import (
    AcquisitionGeometry,
    InstrumentError,
    ScanCapabilities,
    ScanRequest,
)
from fibsims_twin.drift import SlowProcesses
from fibsims_twin.frames import beam_origin_um
from fibsims_twin.parameters import (
    AMPERE_PER_NANOAMPERE,
    ELEMENTARY_CHARGE_C,
    GAUSSIAN_FWHM_PER_SIGMA,
    NM_PER_UM,
    RAD_PER_MRAD,
    SECOND_PER_MICROSECOND,
    ColumnParameters,
    StageParameters,
)
from fibsims_twin.state import TwinState
from fibsims_twin.timing import scan_duration_s


def check_scan(
    request: ScanRequest, limits: ScanCapabilities, max_field_width_um: float, what: str
) -> None:
    """Refuse a scan the scan generator cannot run (the limits the twin declares in its
    capabilities), naming the field and the fix."""
    min_dwell_us = limits.min_dwell_us
    resolution = request.resolution_px
    if len(resolution) != 2 or any(
        isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1 for n in resolution
    ):
        raise InstrumentError(
            f"{what}: resolution_px {resolution!r} must be two positive integers (width, height)"
        )
    if not math.isfinite(request.dwell_us) or request.dwell_us < min_dwell_us:
        raise InstrumentError(
            f"{what}: dwell_us {request.dwell_us!r} is below the scan generator's minimum "
            f"{min_dwell_us} us; use a longer dwell"
        )
    if (
        isinstance(request.frames, bool)
        or not isinstance(request.frames, int)
        or request.frames < 1
    ):
        raise InstrumentError(f"{what}: frames {request.frames!r} must be an integer >= 1")
    if not math.isfinite(request.field_width_um) or request.field_width_um <= 0:
        raise InstrumentError(
            f"{what}: field_width_um {request.field_width_um!r} must be a positive width"
        )
    beyond = [
        problem
        for problem in (
            limits.resolution_problem(resolution),
            None
            if request.dwell_us <= limits.max_dwell_us
            else f"dwell_us {request.dwell_us:g} is above the scan generator's "
            f"{limits.max_dwell_us:g} us",
            None  # a dwell between the declared steps is refused, not rounded
            if request.dwell_us > limits.max_dwell_us
            else limits.dwell_problem(request.dwell_us),
            None
            if request.field_width_um <= max_field_width_um
            else f"field_width_um {request.field_width_um:g} is wider than the column's "
            f"{max_field_width_um:g} um field of view",
        )
        if problem
    ]
    if beyond:
        raise InstrumentError(f"{what}: " + "; ".join(beyond))


def pixel_axes(
    request: ScanRequest, centre_um: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Face-frame coordinates of the pixel centres: x (W,) across, y (H,) down the face."""
    width, height = request.resolution_px
    pitch_um = request.field_width_um / width
    x = centre_um[0] + (np.arange(width) + 0.5 - width / 2) * pitch_um
    y = centre_um[1] + (np.arange(height) + 0.5 - height / 2) * pitch_um
    return x, y


def primaries_per_pixel(current_na: float, dwell_us: float, frames: int) -> float:
    """Ions landing on one pixel over all frames: I * tau * frames / e."""
    charge_c = current_na * AMPERE_PER_NANOAMPERE * dwell_us * SECOND_PER_MICROSECOND
    return frames * charge_c / ELEMENTARY_CHARGE_C


def spot_fwhm_nm(current_na: float, p: ColumnParameters, defocus_um: float = 0.0) -> float:
    """Beam spot diameter (FWHM): docs/physics.md's power law d = d0 (I / I0)^k, widened in
    quadrature by the defocus disc 2 alpha |dz| (geometric optics)."""
    focused = p.spot_fwhm_ref_nm * (current_na / p.spot_ref_current_na) ** p.spot_exponent
    disc = 2.0 * p.convergence_half_angle_mrad * RAD_PER_MRAD * abs(defocus_um) * NM_PER_UM
    return math.hypot(focused, disc)


def spot_sigma_px(
    current_na: float, pixel_size_nm: float, p: ColumnParameters, defocus_um: float = 0.0
) -> float:
    return spot_fwhm_nm(current_na, p, defocus_um) / GAUSSIAN_FWHM_PER_SIGMA / pixel_size_nm


def pixel_size_nm(request: ScanRequest) -> float:
    return request.field_width_um * NM_PER_UM / request.resolution_px[0]


@dataclass(frozen=True)
class Acquisition:
    """One scan as the sample sees it: pixel axes in the face frame of the sample, the spot,
    the ions per pixel (delivered current) and the timing; the drift (x, y, z), field centre
    and defocus at its middle."""

    x_um: np.ndarray
    y_um: np.ndarray
    pixel_size_nm: float
    sigma_px: float
    current_na: float
    primaries_per_pixel: float
    duration_s: float
    middle_s: float
    drift_um: tuple[float, float, float]
    centre_um: tuple[float, float]
    defocus_um: float

    def geometry(self, face_z_um: float) -> AcquisitionGeometry:
        """Where the scan landed, with the true face ``face_z_um`` at its middle."""
        return AcquisitionGeometry(
            drift_um=self.drift_um,
            field_center_um=self.centre_um,
            face_z_um=float(face_z_um),
            defocus_um=self.defocus_um,
        )

    @property
    def charge_nc(self) -> float:
        """Charge delivered while dwelling on the pixels (flyback blanked)."""
        pixels = self.x_um.size * self.y_um.size
        return self.primaries_per_pixel * pixels * ELEMENTARY_CHARGE_C / AMPERE_PER_NANOAMPERE

    @property
    def area_um2(self) -> float:
        pitch = self.pixel_size_nm / NM_PER_UM
        return self.x_um.size * self.y_um.size * pitch * pitch


def plan_acquisition(
    request: ScanRequest,
    state: TwinState,
    slow: SlowProcesses,
    now_s: float,
    line_flyback_s: float,
    column: ColumnParameters,
    stage: StageParameters,
) -> Acquisition:
    """Where and how a scan starting at ``now_s`` lands on the sample."""
    duration_s = scan_duration_s(
        request.resolution_px, request.dwell_us, request.frames, line_flyback_s
    )
    middle_s = now_s + duration_s / 2
    drift = slow.drift_um(middle_s)
    origin = beam_origin_um(state, drift, stage)
    centre = (origin[0] + request.center_x_um, origin[1] + request.center_y_um)
    x, y = pixel_axes(request, centre)
    size_nm = pixel_size_nm(request)
    current = state.current_na * slow.emission_factor(middle_s)
    defocus_um = slow.focus_error_um(middle_s) - state.focus_correction_um
    return Acquisition(
        x_um=x,
        y_um=y,
        pixel_size_nm=size_nm,
        sigma_px=spot_sigma_px(state.current_na, size_nm, column, defocus_um),
        current_na=current,
        primaries_per_pixel=primaries_per_pixel(current, request.dwell_us, request.frames),
        duration_s=duration_s,
        middle_s=middle_s,
        drift_um=(float(drift[0]), float(drift[1]), float(drift[2])),
        centre_um=centre,
        defocus_um=float(defocus_um),
    )
