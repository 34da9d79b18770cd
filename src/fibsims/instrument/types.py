"""Value types exchanged across the instrument interfaces.

These are plain frozen dataclasses so that every backend (the in-process twin, a ZeroMQ
adapter, a vendor bridge) can build and read them without importing anything else of fibsims
(:mod:`~fibsims.instrument.declare`, whose range markers the wire checks, is standard library).
Units live in the field names.

Geometry convention (the "face frame"): ``x`` runs across the cut face (its width), ``y`` runs
down the face (its height, the milling depth direction), ``z`` runs along the slicing axis, so the
face advances in +z by one slice thickness per slice. ``z = 0`` is where the recipe's first
slice starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from fibsims.instrument.declare import Positive

if TYPE_CHECKING:  # numpy is imported by whoever makes the arrays: not ``fibsims estimate``
    import numpy as np


class PatternKind(StrEnum):
    """Milling pattern shapes that every ion column offers."""

    BOX = "box"
    CLEANING_CROSS_SECTION = "cleaning_cross_section"


class Polarity(StrEnum):
    """Secondary-ion polarity the TOF extracts."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class StagePosition:
    """Stage coordinates. Rotation is about the face normal, the axis rocking polish uses."""

    x_um: float = 0.0
    y_um: float = 0.0
    z_um: float = 0.0
    tilt_deg: float = 0.0
    rotation_deg: float = 0.0


@dataclass(frozen=True)
class MillPattern:
    """A milling pattern in the face frame.

    ``front_z_um`` is where the pattern's front edge lies on the slicing axis: after a
    cleaning cross-section completes, the cut face stands there. The beam dwells over the
    whole ``width_um x height_um`` footprint to ``depth_um``, so the milling time follows the
    pattern volume even though only the material between the old face and ``front_z_um`` is
    fresh.
    """

    kind: PatternKind
    width_um: float
    height_um: float
    depth_um: float
    front_z_um: float
    center_x_um: float = 0.0
    center_y_um: float = 0.0
    rotation_deg: float = 0.0
    """Rotation of the footprint about the y axis (in the x-z plane, counter-clockwise seen
    from the top surface, about the footprint's centre), as vendors' pattern rotation: 0 for
    cuts; a fiducial's angled lines use it."""

    @property
    def volume_um3(self) -> float:
        return self.width_um * self.height_um * self.depth_um


@dataclass(frozen=True)
class MillResult:
    """What a completed pattern did: time taken, dose delivered, where the face now stands."""

    duration_s: float
    dose_nc: float
    face_z_um: float
    current_na: float


@dataclass(frozen=True)
class ScanRequest:
    """A raster scan of the face: pixels, dwell, frames and the field of view.

    Pixels are square, so the field is ``field_width_um`` x ``field_height_um`` (width x H/W).
    ``center_x_um``/``center_y_um`` place the field's centre relative to where the beam points
    (the face centre, drift-corrected), in the face frame: x across, y down the face.
    """

    resolution_px: tuple[Positive, Positive]  # (width, height)
    dwell_us: float
    frames: Positive
    field_width_um: float
    center_x_um: float = 0.0
    center_y_um: float = 0.0

    @property
    def pixel_size_nm(self) -> float:
        return self.field_width_um * 1000.0 / self.resolution_px[0]

    @property
    def field_height_um(self) -> float:
        return self.field_width_um * self.resolution_px[1] / self.resolution_px[0]


@dataclass(frozen=True)
class Image:
    """An ion-induced SE image: detected counts per pixel, summed over frames.

    ``pixels`` has shape (height, width) and dtype uint16; counts above the range are clipped
    and the clipped fraction is reported in ``saturated_fraction``.
    """

    pixels: np.ndarray
    pixel_size_nm: float
    dwell_us: float
    frames: int
    current_na: float
    duration_s: float
    saturated_fraction: float = 0.0


@dataclass(frozen=True)
class Peak:
    """A mass peak to integrate: label (``7Li+``), nominal mass and integration window."""

    label: str
    mass_u: float
    lower_u: float
    upper_u: float


@dataclass(frozen=True)
class RasterRequest:
    """A ToF-SIMS raster: a scan plus the polarity and the peaks to map."""

    scan: ScanRequest
    polarity: Polarity
    peaks: tuple[str, ...]


@dataclass(frozen=True)
class Spectrum:
    """A TOF sum spectrum on the TofDAQ sample axis (i = p1*sqrt(m) + p2)."""

    counts: np.ndarray  # float64 (n_samples,)
    mass_axis_u: np.ndarray  # float32 (n_samples,)
    calibration_p1: float
    calibration_p2: float
    sample_interval_s: float


def _no_lines() -> np.ndarray:
    """An empty ``saturated_lines`` (uint8): a raster that reports none."""
    import numpy as np

    return np.zeros(0, dtype=np.uint8)


@dataclass(frozen=True)
class Raster:
    """The result of a ToF-SIMS raster.

    ``count_maps`` has shape (n_peaks, height, width), dtype uint32, in the order of ``peaks``.
    ``saturated_lines`` flags, per scan line, whether the detector lost counts to saturation.
    What correcting the counts for the detector needs, None when the instrument does not report
    it: ``extraction_rate_hz`` (TOF extractions per second), ``peak_window_fraction`` (the share
    of a peak's ions its integration window holds), ``max_ions_per_extraction`` (the most ions
    of one peak the digitiser records in one extraction: its range in single-ion signals; 1 for
    a counting TDC) and ``duty_cycles`` (per peak, the share of its ions the orthogonal
    extraction catches).
    """

    peaks: tuple[Peak, ...]
    count_maps: np.ndarray
    spectrum: Spectrum
    pixel_size_nm: float
    dwell_us: float
    frames: int
    current_na: float
    duration_s: float
    saturated_lines: np.ndarray = field(default_factory=_no_lines)
    extraction_rate_hz: float | None = None
    peak_window_fraction: float | None = None
    max_ions_per_extraction: int | None = None
    duty_cycles: tuple[float, ...] | None = None


@dataclass(frozen=True)
class AcquisitionGeometry:
    """Where an acquisition really landed on the sample (simulated instruments' ground truth).

    The sample frame is the face frame without drift: a point of the sample keeps its
    coordinates however the sample drifts. ``field_center_um`` is where the centre of the
    scanned field fell in that frame (stage + beam shift - drift, and any stage error), so a
    perfectly drift-corrected series keeps it fixed. ``face_z_um`` is where the face truly
    stood (not where the patterns were aimed), ``defocus_um`` how far off focus the beam was.
    All at the middle of the acquisition.
    """

    drift_um: tuple[float, float, float]
    field_center_um: tuple[float, float]
    face_z_um: float
    defocus_um: float


@dataclass(frozen=True)
class FocusResult:
    """Outcome of an autofocus routine: how long it took and, when the routine says, how far off
    focus the beam was before and is after.

    Why the defocus is optional: vendors' autofocus routines report success and the new working
    distance or lens setting, rarely a defocus in um; only the twin (which knows its focus
    error) fills both. None means "not reported", never zero.
    """

    duration_s: float
    defocus_before_um: float | None = None
    defocus_after_um: float | None = None
