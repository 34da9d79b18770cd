"""``create_instrument``: the openfibsem backend's entry point (``fibsims.instruments``).

Which microscope: OpenFIBSEM's own configuration decides, as in its applications. The file
is ``FIBSIMS_OPENFIBSEM_CONFIG`` (a fibsem ``microscope-configuration.yaml``) or fibsem's
default, which names the headless ``DemoMicroscope``; ``FIBSIMS_OPENFIBSEM_MANUFACTURER``
(``Demo``, ``Thermo``, ``Tescan``...) and ``FIBSIMS_OPENFIBSEM_IP`` override its manufacturer
and address. Why environment variables: :class:`~fibsims.instrument.InstrumentOptions` carries
the run (seed, sample, start time), not a site's wiring, and the recipe stays portable.

The demo microscope's ion column is made a xenon plasma column (fibsem's default
configuration is gallium, which no fibsims recipe asks for); ``FIBSIMS_OPENFIBSEM_PLASMA_GAS``
picks another gas (``Argon``, ``Oxygen``, ``Nitrogen``). Real hardware reports its own.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from fibsims.instrument.capabilities import Capabilities, ScanCapabilities
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.registry import InstrumentOptions
from fibsims_openfibsem import _fibsem as fs
from fibsims_openfibsem.devices import (
    CURRENT_TOLERANCE,
    ION,
    NoTofSpectrometer,
    OpenFibsemColumn,
    OpenFibsemSEDetector,
    OpenFibsemStage,
    OpenFibsemVacuum,
    WallClock,
)
from fibsims_openfibsem.frames import StageFrame
from fibsims_openfibsem.units import m_to_um, rad_to_deg, v_to_kv

BACKEND_NAME = "openfibsem"
CONFIG_ENV = "FIBSIMS_OPENFIBSEM_CONFIG"
MANUFACTURER_ENV = "FIBSIMS_OPENFIBSEM_MANUFACTURER"
IP_ENV = "FIBSIMS_OPENFIBSEM_IP"
PLASMA_GAS_ENV = "FIBSIMS_OPENFIBSEM_PLASMA_GAS"
DEMO_PLASMA_GAS = "Xenon"

# What fibsem does not report, declared here (ASSUMED: AutoScript's scan generator; the demo
# accepts anything). A microscope that lists its resolutions gets them as presets.
SE_MAX_RESOLUTION_PX = (6144, 4096)
SE_DWELL_RANGE_US = (0.025, 25_000.0)
MAX_FIELD_WIDTH_UM = 2000.0  # fibsem has no field-of-view limit to read: the recipe's bound
DEVICES = ("stage", "column", "se_detector", "vacuum")


@dataclass(kw_only=True)
class OpenFibsemInstrument(Instrument):
    """The backend's :class:`Instrument`, holding the fibsem microscope for tests and tools."""

    microscope: Any
    frame: StageFrame
    _log_handler: logging.Handler | None = field(default=None, repr=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.microscope.disconnect()
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None


def create_instrument(options: InstrumentOptions) -> OpenFibsemInstrument:
    """Open the configured microscope through OpenFIBSEM (the demo one by default)."""
    handler = _quiet_root_logger()
    try:
        microscope = open_microscope()
        clock = WallClock(options.start_time_s)
        frame = stage_frame(microscope)
        column = OpenFibsemColumn(microscope, clock)
        stage = OpenFibsemStage(microscope, frame)
        detector = OpenFibsemSEDetector(microscope, clock)
        declared = capabilities(microscope, column, frame)
        for device in (stage, column, detector):  # each refuses what the backend does not offer
            device.declared = declared
        return OpenFibsemInstrument(
            name=BACKEND_NAME,
            clock=clock,
            stage=stage,
            column=column,
            se_detector=detector,
            tof=NoTofSpectrometer(),
            vacuum=OpenFibsemVacuum(microscope),
            capabilities=declared,
            microscope=microscope,
            frame=frame,
            _log_handler=handler,
        )
    except InstrumentError:
        _release(handler)
        raise
    except Exception as error:
        _release(handler)
        raise InstrumentError(f"OpenFIBSEM could not open the microscope: {error}") from error


def open_microscope() -> Any:
    """A connected ``FibsemMicroscope`` as fibsem's configuration (and the overrides) name it.

    The demo microscope is built directly rather than through ``fibsem.utils.setup_session``,
    which also writes a session folder and configures logging; hardware goes through it."""
    with contextlib.redirect_stdout(io.StringIO()):
        settings = fs.utils.load_microscope_configuration(os.environ.get(CONFIG_ENV) or None)
    manufacturer = os.environ.get(MANUFACTURER_ENV)
    if manufacturer:
        settings.system.info.manufacturer = fs.manufacturers.normalize_manufacturer(manufacturer)
    if settings.system.info.manufacturer != fs.manufacturers.DEMO:
        microscope, _ = fs.utils.setup_session(
            config_path=os.environ.get(CONFIG_ENV) or None,
            setup_logging=False,
            ip_address=os.environ.get(IP_ENV) or None,
            manufacturer=manufacturer or None,
        )
        return microscope
    from fibsem.microscopes.simulator import DemoMicroscope  # numpy/skimage only, no Qt

    settings.system.ion.plasma = True
    settings.system.ion.plasma_gas = os.environ.get(PLASMA_GAS_ENV) or DEMO_PLASMA_GAS
    microscope = DemoMicroscope(settings.system)
    microscope.connect_to_microscope(os.environ.get(IP_ENV) or "localhost")
    return microscope


def stage_frame(microscope: Any) -> StageFrame:
    """fibsims' pose zero is fibsem's "FIB" orientation (see :mod:`fibsims_openfibsem.frames`)."""
    fib = microscope.get_orientation("FIB")
    try:
        offset = microscope._get_compucentric_rotation_offset()
        offset_um = (m_to_um(offset.x), m_to_um(offset.y))
    except Exception:  # a stage that cannot say has its specimen and raw frames together
        offset_um = (0.0, 0.0)
    return StageFrame(
        reference_tilt_deg=rad_to_deg(fib.t),
        reference_rotation_deg=rad_to_deg(fib.r),
        specimen_offset_um=offset_um,
    )


def capabilities(microscope: Any, column: OpenFibsemColumn, frame: StageFrame) -> Capabilities:
    """What the microscope reports (currents, voltages, resolutions, stage limits), and the
    rest declared (see the constants above)."""
    voltages = [v_to_kv(v) for v in microscope.get_available_values("voltage", ION) or []]
    if not voltages:
        voltages = [column.voltage_kv()]
    resolutions = _resolutions(microscope.get_available_values("resolution", ION))
    widest = max(resolutions) if resolutions else SE_MAX_RESOLUTION_PX
    se_scan = ScanCapabilities(
        max_resolution_px=widest,
        min_dwell_us=SE_DWELL_RANGE_US[0],
        max_dwell_us=SE_DWELL_RANGE_US[1],
        preset_resolutions_px=tuple(resolutions),
    )
    tilt, travel = _stage_limits(microscope, frame)
    return Capabilities(
        current_ladder_na=tuple(column.current_ladder_na()),
        current_tolerance=CURRENT_TOLERANCE,
        voltage_range_kv=(min(voltages), max(voltages)),
        max_field_width_um=MAX_FIELD_WIDTH_UM,
        se_scan=se_scan,
        sims_scan=None,
        stage_tilt_range_deg=tilt,
        stage_travel_um=travel,
        devices=DEVICES,
    )


def _resolutions(values: Any) -> list[tuple[int, int]]:
    found = []
    for value in values or []:
        try:
            width, height = (int(v) for v in str(value).lower().replace("x", " ").split())
        except ValueError:
            continue
        found.append((width, height))
    return sorted(set(found))


def _stage_limits(
    microscope: Any, frame: StageFrame
) -> tuple[
    tuple[float, float],
    tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None,
]:
    """Tilt range (deg, fibsims' pose) and x/y/z travel (um, specimen); fibsem keeps the axis
    limits in metres and the tilt in degrees."""
    try:
        limits = microscope._get_axis_limits()
    except Exception:
        return (-90.0, 90.0), None
    t = limits.get("t")
    tilt = (
        (t.min - frame.reference_tilt_deg, t.max - frame.reference_tilt_deg)
        if t is not None
        else (-90.0, 90.0)
    )
    try:
        dx, dy = frame.specimen_offset_um
        travel = (
            (m_to_um(limits["x"].min) + dx, m_to_um(limits["x"].max) + dx),
            (m_to_um(limits["y"].min) + dy, m_to_um(limits["y"].max) + dy),
            (m_to_um(limits["z"].min), m_to_um(limits["z"].max)),
        )
    except (KeyError, AttributeError):
        travel = None
    return tilt, travel


def _quiet_root_logger() -> logging.Handler | None:
    """fibsem logs through the root logger's module functions, which install a stderr handler
    when the root has none: hold one that drops them while the backend is open (an
    application that configured logging keeps its own)."""
    root = logging.getLogger()
    if root.handlers:
        return None
    handler = logging.NullHandler()
    root.addHandler(handler)
    return handler


def _release(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
