"""Scan geometry and timing shared by the SE detector, the ToF raster and the autofocus.

Why shared: an ion image and a SIMS raster are the same beam scan with different detectors, so
their pixel grid, their duration and their refusal of a bad request must agree.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims.instrument import InstrumentError, ScanRequest
from fibsims_twin.parameters import (
    AMPERE_PER_NANOAMPERE,
    ELEMENTARY_CHARGE_C,
    GAUSSIAN_FWHM_PER_SIGMA,
    NM_PER_UM,
    SECOND_PER_MICROSECOND,
    ColumnParameters,
)


def check_scan(request: ScanRequest, min_dwell_us: float, what: str) -> None:
    """Refuse a scan the scan generator cannot run, naming the field and the fix."""
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


def scan_duration_s(
    resolution_px: tuple[int, int], dwell_us: float, frames: int, line_flyback_s: float
) -> float:
    """Dwell on every pixel of every frame, plus one flyback per line per frame."""
    width, height = resolution_px
    dwell_s = width * height * dwell_us * SECOND_PER_MICROSECOND
    return frames * (dwell_s + height * line_flyback_s)


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


def spot_fwhm_nm(current_na: float, p: ColumnParameters) -> float:
    """Beam spot diameter (FWHM), physics.md power law d = d0 (I / I0)^k."""
    return p.spot_fwhm_ref_nm * (current_na / p.spot_ref_current_na) ** p.spot_exponent


def spot_sigma_px(current_na: float, pixel_size_nm: float, p: ColumnParameters) -> float:
    return spot_fwhm_nm(current_na, p) / GAUSSIAN_FWHM_PER_SIGMA / pixel_size_nm


def pixel_size_nm(request: ScanRequest) -> float:
    return request.field_width_um * NM_PER_UM / request.resolution_px[0]
