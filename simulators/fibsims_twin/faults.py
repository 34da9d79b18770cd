"""Fault injection: make the twin misbehave on cue, so every suspender and error policy of the
engine can be exercised through the real instrument interfaces.

Faults arrive as plain dicts (``InstrumentOptions.faults``, resolved by the service from
``--fault KIND@slice=N,...``). Each is *armed* once the face has reached ``at_face_um`` (the
face that slice N's mill cuts to, i.e. when that mill is asked for; a pattern that mills a
feature, such as a fiducial, is not a slice's mill and arms nothing), and then:

- ``beam_current_drop``: the measured current reads ``factor`` x the selected rung for
  ``duration_s`` of instrument time from arming;
- ``pressure_spike``: the chamber pressure reads ``pressure_pa`` for ``duration_s``;
- ``transient`` / ``hardware_fault`` / ``autofocus_failure`` / ``interlock``: the next
  ``count`` calls of the named step raise the matching instrument error.

Devices are wrapped, not modified, so the physics modules stay free of test hooks. Every
method of the interfaces passes through (the SE detector's contrast and brightness included);
the ground truth and the cost model are not wrapped (they do not act on the instrument).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fibsims.instrument import (
    FocusResult,
    HardwareFault,
    Image,
    InstrumentError,
    IonColumn,
    MillPattern,
    MillResult,
    Raster,
    RasterRequest,
    SafetyInterlock,
    ScanRequest,
    SEDetector,
    TofSpectrometer,
    TransientInstrumentError,
    Vacuum,
)
from fibsims_twin.clock import VirtualClock
from fibsims_twin.state import TwinState

# ASSUMED: base pressure of a PFIB chamber in operation, ~1e-6 mbar (1e-4 Pa); the order of
# magnitude quoted for FIB-SEM chambers. A calibration replaces it with the gauge's reading.
BASE_CHAMBER_PRESSURE_PA = 1e-4

_ERRORS: dict[str, type[InstrumentError]] = {
    "transient": TransientInstrumentError,
    "hardware_fault": HardwareFault,
    "autofocus_failure": InstrumentError,
    "interlock": SafetyInterlock,
}
_BEAM_CALLS = ("mill", "se_image", "sims_raster", "autofocus")


@dataclass
class _Fault:
    kind: str
    at_face_um: float
    duration_s: float = 0.0
    factor: float = 1.0
    pressure_pa: float = BASE_CHAMBER_PRESSURE_PA
    count: int = 1
    step: str = ""
    armed_at_s: float | None = None
    fired: int = 0


class FaultSchedule:
    """The armed state of every injected fault, judged on the face depth and the clock."""

    def __init__(
        self, specs: Sequence[Mapping[str, Any]], state: TwinState, clock: VirtualClock
    ) -> None:
        known = set(_Fault.__dataclass_fields__)
        self.faults = [_Fault(**{k: v for k, v in s.items() if k in known}) for s in specs]
        for fault in self.faults:
            if fault.kind == "autofocus_failure":
                fault.step = "autofocus"
            elif fault.kind == "interlock":
                fault.step = "any beam action"
        self.state = state
        self.clock = clock

    def _arm(self, cutting_to_um: float | None = None) -> None:
        """Arm faults whose depth the face has reached, or the mill now requested will reach:
        a fault for slice N arms when slice N's mill is asked for."""
        depth = max(self.state.face_z_um, cutting_to_um or 0.0)
        for fault in self.faults:
            if fault.armed_at_s is None and depth >= fault.at_face_um - 1e-9:
                fault.armed_at_s = self.clock.now_s()

    def arm_for_mill(self, front_z_um: float) -> None:
        self._arm(front_z_um)

    def _window(self, kind: str) -> _Fault | None:
        self._arm()
        now = self.clock.now_s()
        for fault in self.faults:
            start = fault.armed_at_s
            if fault.kind == kind and start is not None and start <= now < start + fault.duration_s:
                return fault
        return None

    def current_factor(self) -> float:
        fault = self._window("beam_current_drop")
        return fault.factor if fault else 1.0

    def pressure_pa(self) -> float:
        fault = self._window("pressure_spike")
        return fault.pressure_pa if fault else BASE_CHAMBER_PRESSURE_PA

    def before(self, call: str) -> None:
        """Raise the error of an armed fault that targets ``call``."""
        self._arm()
        for fault in self.faults:
            if fault.kind not in _ERRORS or fault.armed_at_s is None or fault.fired >= fault.count:
                continue
            if fault.step == call or (fault.kind == "interlock" and call in _BEAM_CALLS):
                fault.fired += 1
                raise _ERRORS[fault.kind](
                    f"injected {fault.kind} on {call} ({fault.fired} of {fault.count})"
                )


class _Wrapper:
    """Twin-only extras of the wrapped device (e.g. ``expected_counts``) stay reachable."""

    _inner: Any

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FaultyColumn(_Wrapper, IonColumn):
    """The twin's column, with injected faults on milling, autofocus and the current read-back."""

    def __init__(self, inner: IonColumn, faults: FaultSchedule) -> None:
        self._inner, self._faults = inner, faults

    @property
    def ion_species(self) -> str:
        return self._inner.ion_species

    def voltage_kv(self) -> float:
        return self._inner.voltage_kv()

    def set_voltage_kv(self, voltage_kv: float) -> None:
        self._inner.set_voltage_kv(voltage_kv)

    def current_ladder_na(self) -> Sequence[float]:
        return self._inner.current_ladder_na()

    def current_na(self) -> float:
        return self._inner.current_na()

    def set_current_na(self, current_na: float) -> float:
        return self._inner.set_current_na(current_na)

    def measured_current_na(self) -> float:
        return self._inner.measured_current_na() * self._faults.current_factor()

    def is_blanked(self) -> bool:
        return self._inner.is_blanked()

    def blank(self) -> None:
        self._inner.blank()

    def unblank(self) -> None:
        self._inner.unblank()

    def beam_shift_um(self) -> tuple[float, float]:
        return self._inner.beam_shift_um()

    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        self._inner.set_beam_shift_um(shift_um)

    def mill(self, pattern: MillPattern) -> MillResult:
        if not self._inner.mills_feature(pattern):
            self._faults.arm_for_mill(pattern.front_z_um)
        self._faults.before("mill")
        return self._inner.mill(pattern)

    def autofocus(self) -> FocusResult:
        self._faults.before("autofocus")
        return self._inner.autofocus()


class FaultySEDetector(_Wrapper, SEDetector):
    def __init__(self, inner: SEDetector, faults: FaultSchedule) -> None:
        self._inner, self._faults = inner, faults

    def acquire_image(self, request: ScanRequest) -> Image:
        self._faults.before("se_image")
        return self._inner.acquire_image(request)

    def contrast(self) -> float:
        return self._inner.contrast()

    def set_contrast(self, value: float) -> None:
        self._inner.set_contrast(value)

    def brightness(self) -> float:
        return self._inner.brightness()

    def set_brightness(self, value: float) -> None:
        self._inner.set_brightness(value)


class FaultyTof(_Wrapper, TofSpectrometer):
    def __init__(self, inner: TofSpectrometer, faults: FaultSchedule) -> None:
        self._inner, self._faults = inner, faults

    def acquire_raster(self, request: RasterRequest) -> Raster:
        self._faults.before("sims_raster")
        return self._inner.acquire_raster(request)


class TwinVacuum(Vacuum):
    """The chamber gauge: base pressure, or an injected spike."""

    def __init__(self, pressure: Callable[[], float]) -> None:
        self._pressure = pressure

    def chamber_pressure_pa(self) -> float:
        return self._pressure()


def inject(instrument: Any, specs: Sequence[Mapping[str, Any]]) -> Any:
    """The twin ``instrument`` with ``specs`` wired in (a copy; the original is untouched)."""
    schedule = FaultSchedule(specs, instrument.state, instrument.clock)
    return replace(
        instrument,
        column=FaultyColumn(instrument.column, schedule),
        se_detector=FaultySEDetector(instrument.se_detector, schedule),
        tof=FaultyTof(instrument.tof, schedule),
        vacuum=TwinVacuum(schedule.pressure_pa),
    )
