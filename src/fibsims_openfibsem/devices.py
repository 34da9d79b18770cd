"""fibsims' device interfaces over one ``FibsemMicroscope`` (OpenFIBSEM's vendor-neutral API).

Why thin: OpenFIBSEM already hides AutoScript, TESCAN and Zeiss behind one API; these classes
only translate units and frames (:mod:`fibsims_openfibsem.units`,
:mod:`fibsims_openfibsem.frames`) and fibsims' contract (a current off the ladder is refused,
milling needs an unblanked beam). Every call goes to the ion beam (``BeamType.ION``).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Sequence

import numpy as np

from fibsims.instrument.capabilities import (
    Capabilities,
    neighbouring_rungs,
    rung_within,
)
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import (
    Clock,
    IonColumn,
    SEDetector,
    Stage,
    TofSpectrometer,
    Vacuum,
)
from fibsims.instrument.types import (
    FocusResult,
    Image,
    MillPattern,
    MillResult,
    Raster,
    RasterRequest,
    ScanRequest,
    StagePosition,
)
from fibsims_openfibsem import _fibsem as fs
from fibsims_openfibsem.frames import (
    StageFrame,
    beam_to_face_um,
    face_to_beam_m,
    field_width_for_m,
    pattern_rectangle,
)
from fibsims_openfibsem.units import (
    a_to_na,
    kv_to_v,
    m_to_um,
    na_to_a,
    us_to_s,
    v_to_kv,
)

ION = fs.BeamType.ION
PLASMA_SPECIES = {"Xenon": "Xe", "Argon": "Ar", "Oxygen": "O", "Nitrogen": "N"}
"""fibsem's plasma gas names -> fibsims' ion species; a column without plasma is gallium."""
CURRENT_TOLERANCE = 0.05
"""A requested current may differ from a rung by this share of itself: fibsem's demo rungs
carry float noise (1.00005 nA), vendors label apertures to two figures."""
MILLING_APPLICATION_FILE = "Si"
"""The application file patterns are drawn with (every Thermo and the demo system has it)."""


class WallClock(Clock):
    """Wall time since the session opened, offset by the run's start (hardware and demo alike).

    Why the demo too: the demo microscope has no clock of its own, it sleeps (or not, with
    ``FIBSEM_SIM_NO_DELAY=1``) in wall time."""

    def __init__(self, start_time_s: float = 0.0) -> None:
        self._start_s = float(start_time_s)
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return self._start_s + (time.monotonic() - self._t0)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class OpenFibsemStage(Stage):
    """The stage, in fibsims' pose (:class:`~fibsims_openfibsem.frames.StageFrame`)."""

    def __init__(self, microscope: fs.FibsemMicroscope, frame: StageFrame) -> None:
        self._m = microscope
        self.frame = frame
        self.declared: Capabilities | None = None
        """What the backend declares (set once built): a target beyond it is refused."""

    def position(self) -> StagePosition:
        p = self._m.get_stage_position()
        return self.frame.from_raw(p.x, p.y, p.z, p.r, p.t)

    def move_to(self, target: StagePosition) -> StagePosition:
        """Refuses a target beyond the declared travel or tilt before anything moves (fibsem
        clamps or raises per vendor; the contract is one error, named)."""
        if self.declared is not None:
            problems = self.declared.stage_problems("target", target.x_um, target.y_um, target.z_um)
            low, high = self.declared.stage_tilt_range_deg
            if not low <= target.tilt_deg <= high:
                problems.append(
                    f"target.tilt_deg: {target.tilt_deg:g} deg is beyond the stage's tilt "
                    f"{low:g} to {high:g} deg"
                )
            rotation = self.declared.rotation_problem("target.rotation_deg", target.rotation_deg)
            if problems or rotation:
                raise InstrumentError("; ".join([*problems, *([rotation] if rotation else [])]))
        raw = self.frame.to_raw(target)
        try:
            self._m.move_stage_absolute(
                fs.FibsemStagePosition(
                    x=raw.x_m,
                    y=raw.y_m,
                    z=raw.z_m,
                    r=raw.r_rad,
                    t=raw.t_rad,
                    coordinate_system="RAW",
                )
            )
        except Exception as error:  # vendor errors carry no common type
            raise InstrumentError(f"stage move to {target} failed: {error}") from error
        return self.position()


class OpenFibsemColumn(IonColumn):
    """The ion column: current ladder, voltage, blanking, beam shift, milling and autofocus."""

    def __init__(self, microscope: fs.FibsemMicroscope, clock: Clock) -> None:
        self._m = microscope
        self._clock = clock
        self._lock = threading.Lock()  # fibsem's milling state is one per microscope
        self.declared: Capabilities | None = None
        """What the backend declares (set once built): a voltage beyond it is refused."""

    @property
    def ion_species(self) -> str:
        if not self._m.get("plasma", ION):
            return "Ga"
        gas = self._m.get("plasma_gas", ION)
        return PLASMA_SPECIES.get(str(gas), str(gas))

    def voltage_kv(self) -> float:
        return v_to_kv(self._m.get_beam_voltage(ION))

    def set_voltage_kv(self, voltage_kv: float) -> None:
        if self.declared is not None:
            low, high = self.declared.voltage_range_kv
            if not low <= voltage_kv <= high:
                raise InstrumentError(
                    f"voltage_kv {voltage_kv:g} is beyond the column's {low:g} to {high:g} kV"
                )
        self._m.set_beam_voltage(kv_to_v(voltage_kv), ION)

    def current_ladder_na(self) -> Sequence[float]:
        values = self._m.get_available_values("current", ION) or []
        return tuple(sorted(_clean(a_to_na(value)) for value in values))

    def current_na(self) -> float:
        return _clean(a_to_na(self._m.get_beam_current(ION)))

    def set_current_na(self, current_na: float) -> float:
        ladder = self.current_ladder_na()
        rung = rung_within(ladder, current_na, CURRENT_TOLERANCE)
        if rung is None:
            nearest = " and ".join(f"{r:g} nA" for r in neighbouring_rungs(ladder, current_na))
            raise InstrumentError(
                f"beam current {current_na:g} nA is not on the column's ladder (more than "
                f"{CURRENT_TOLERANCE:.0%} from every rung); the nearest rungs are {nearest}"
            )
        self._m.set_beam_current(na_to_a(rung), ION)
        return rung

    def is_blanked(self) -> bool:
        return bool(self._m.is_blanked(ION))

    def blank(self) -> None:
        self._m.blank(ION)

    def unblank(self) -> None:
        self._m.unblank(ION)

    def beam_shift_um(self) -> tuple[float, float]:
        shift = self._m.get_beam_shift(ION)
        return beam_to_face_um(shift.x, shift.y)

    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        x_m, y_m = face_to_beam_m(*shift_um)
        self._m.set_beam_shift(fs.Point(x_m, y_m), ION)

    def mill(self, pattern: MillPattern) -> MillResult:
        """Draw ``pattern`` as one rectangle (a cleaning cross-section when asked) and run it.

        ``dose_nc`` is the current times the time the run took on the clock (fibsem reads
        back no dose; its own estimate of the time is not what happened, e.g. on the demo
        microscope, which mills in no time); ``face_z_um`` is where the pattern was aimed: no
        hardware measures where the face truly stands. A pattern whose sizes are not positive
        and finite is refused before anything is drawn."""
        if self.is_blanked():
            raise InstrumentError("the beam is blanked: unblank it before milling")
        sizes = {
            "width_um": pattern.width_um,
            "height_um": pattern.height_um,
            "depth_um": pattern.depth_um,
        }
        bad = {name: value for name, value in sizes.items() if not 0.0 < value < math.inf}
        if bad:
            named = ", ".join(f"{name} {value!r}" for name, value in bad.items())
            raise InstrumentError(f"mill pattern refused: {named} must be positive and finite")
        rect = pattern_rectangle(pattern)
        current_a = self._m.get_beam_current(ION)
        voltage_v = self._m.get_beam_voltage(ION)
        hfw_m = max(float(self._m.get_field_of_view(ION)), field_width_for_m(rect))
        settings = fs.FibsemMillingSettings(
            milling_current=current_a,
            milling_voltage=voltage_v,
            hfw=hfw_m,
            application_file=MILLING_APPLICATION_FILE,
            patterning_mode="Serial",
        )
        cross_section = (
            fs.CrossSectionPattern.CleaningCrossSection
            if rect.cleaning_cross_section
            else fs.CrossSectionPattern.Rectangle
        )
        shape = fs.FibsemRectangleSettings(
            width=rect.width_m,
            height=rect.height_m,
            depth=rect.depth_m,
            centre_x=rect.centre_x_m,
            centre_y=rect.centre_y_m,
            rotation=rect.rotation_rad,
            cleaning_cross_section=rect.cleaning_cross_section,
            cross_section=cross_section,
        )
        start_s = self._clock.now_s()
        with self._lock:
            try:
                self._m.setup_milling(settings)
                self._m.draw_rectangle(shape)
                self._m.run_milling(milling_current=current_a, milling_voltage=voltage_v)
                self._m.finish_milling(imaging_current=current_a, imaging_voltage=voltage_v)
            except Exception as error:
                with contextlib.suppress(Exception):  # clear the patterns; the first error tells
                    self._m.finish_milling(imaging_current=current_a, imaging_voltage=voltage_v)
                raise InstrumentError(f"milling {pattern.kind} failed: {error}") from error
        current_na = _clean(a_to_na(current_a))
        duration_s = self._clock.now_s() - start_s
        return MillResult(
            duration_s=duration_s,
            dose_nc=current_na * duration_s,
            face_z_um=pattern.front_z_um,
            current_na=current_na,
        )

    def autofocus(self) -> FocusResult:
        """fibsem's ``auto_focus`` on the ion beam.

        fibsem reports no focus figure, only the working distance it leaves: the change it
        made is how far off focus was (``defocus_before_um``); how far off it is after, fibsem
        cannot say, so ``defocus_after_um`` is None (unknown), not an assumed 0."""
        start_s = self._clock.now_s()
        before_m = float(self._m.get_working_distance(ION))
        try:
            self._m.auto_focus(ION)
        except Exception as error:
            raise InstrumentError(f"autofocus failed: {error}") from error
        after_m = float(self._m.get_working_distance(ION))
        return FocusResult(
            defocus_before_um=m_to_um(after_m - before_m),
            defocus_after_um=None,
            duration_s=self._clock.now_s() - start_s,
        )


def image_from_fibsem(data: np.ndarray, frames: int) -> tuple[np.ndarray, float]:
    """A fibsem frame (grey levels, usually uint8) as fibsims' summed-frames uint16 pixels.

    fibsem returns the detector's grey levels, averaged over any frame integration, not counts:
    the sum over ``frames`` is the level times ``frames``. The saturated fraction is the share
    of pixels at the top of fibsem's range (or of uint16's, after the sum)."""
    grey = np.asarray(data)
    if grey.ndim == 3:  # an RGB(A) render: the detector signal is its first channel
        grey = grey[..., 0]
    top = np.iinfo(grey.dtype).max if np.issubdtype(grey.dtype, np.integer) else None
    summed = np.rint(grey.astype(np.float64) * frames)
    limit = np.iinfo(np.uint16).max
    saturated = summed >= limit
    if top is not None:
        saturated |= grey >= top
    pixels = np.clip(summed, 0, limit).astype(np.uint16)
    return pixels, float(saturated.mean()) if saturated.size else 0.0


class OpenFibsemSEDetector(SEDetector):
    """Ion-induced SE images through fibsem's ``acquire_image`` on the ion beam."""

    def __init__(self, microscope: fs.FibsemMicroscope, clock: Clock) -> None:
        self._m = microscope
        self._clock = clock
        self.declared: Capabilities | None = None
        """What the backend declares (set once built): a scan beyond it is refused."""

    def acquire_image(self, request: ScanRequest) -> Image:
        """A scan centred off the beam's axis is made with the beam shift, restored after.
        A dwell or frame the declared scan generator cannot do is refused before scanning."""
        width, height = request.resolution_px
        scan = None if self.declared is None else self.declared.se_scan
        if scan is not None:
            problem = scan.dwell_problem(request.dwell_us) or scan.resolution_problem(
                (int(width), int(height))
            )
            if problem:
                raise InstrumentError(f"SE image refused: {problem}")
        elif not 0.0 < request.dwell_us < math.inf:
            raise InstrumentError(f"SE image refused: dwell_us {request.dwell_us!r} must be > 0")
        settings = fs.ImageSettings(
            resolution=(int(width), int(height)),
            dwell_time=us_to_s(request.dwell_us),
            hfw=float(request.field_width_um) * 1e-6,
            beam_type=ION,
            autocontrast=False,
            save=False,
            frame_integration=int(request.frames) if request.frames > 1 else None,
        )
        start_s = self._clock.now_s()
        offset = (request.center_x_um, request.center_y_um)
        shifted = offset != (0.0, 0.0)
        before = self._m.get_beam_shift(ION)
        try:
            if shifted:
                dx, dy = face_to_beam_m(*offset)
                self._m.set_beam_shift(fs.Point(before.x + dx, before.y + dy), ION)
            image = self._m.acquire_image(image_settings=settings)
        except Exception as error:
            raise InstrumentError(f"ion-beam image acquisition failed: {error}") from error
        finally:
            if shifted:
                self._m.set_beam_shift(fs.Point(before.x, before.y), ION)
        pixels, saturated = image_from_fibsem(image.data, request.frames)
        return Image(
            pixels=pixels,
            pixel_size_nm=request.pixel_size_nm,
            dwell_us=request.dwell_us,
            frames=request.frames,
            current_na=_clean(a_to_na(self._m.get_beam_current(ION))),
            duration_s=self._clock.now_s() - start_s,
            saturated_fraction=saturated,
        )

    def contrast(self) -> float:
        return float(self._m.get_detector_contrast(ION))

    def set_contrast(self, value: float) -> None:
        self._m.set_detector_contrast(_unit_interval("contrast", value), ION)

    def brightness(self) -> float:
        return float(self._m.get_detector_brightness(ION))

    def set_brightness(self, value: float) -> None:
        self._m.set_detector_brightness(_unit_interval("brightness", value), ION)


def _clean(current_na: float) -> float:
    """A current to 6 significant figures: 15e-9 A reads 15 nA, not 14.999999999999998."""
    return float(f"{current_na:.6g}")


def _unit_interval(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise InstrumentError(f"detector {name} {value!r} must be between 0 and 1")
    return float(value)


class OpenFibsemVacuum(Vacuum):
    """The chamber gauge fibsem reads (pascal on AutoScript; the demo reports 1e-6)."""

    def __init__(self, microscope: fs.FibsemMicroscope) -> None:
        self._m = microscope

    def chamber_pressure_pa(self) -> float:
        return float(self._m.get("chamber_pressure"))


class NoTofSpectrometer(TofSpectrometer):
    """OpenFIBSEM drives no ToF-SIMS spectrometer: a raster names how to compose one."""

    def acquire_raster(self, request: RasterRequest) -> Raster:
        raise InstrumentError(
            "OpenFIBSEM drives no ToF-SIMS spectrometer; compose one from another backend, "
            "e.g. `fibsims run RECIPE --instrument openfibsem --tof sim`"
        )
