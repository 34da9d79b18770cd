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

Devices are wrapped, not modified, so the physics modules stay free of test hooks: a generic
wrapper (:func:`fibsims.instrument.declare.delegate`) passes every method of the interfaces
through and intercepts only the calls a fault acts on; the ground truth and the cost model are
not wrapped (they do not act on the instrument).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fibsims.instrument import (
    HardwareFault,
    InstrumentError,
    IonColumn,
    MillPattern,
    MillResult,
    SafetyInterlock,
    SEDetector,
    TofSpectrometer,
    TransientInstrumentError,
    Vacuum,
)
from fibsims.instrument.declare import delegate
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


class TwinVacuum(Vacuum):
    """The chamber gauge: base pressure, or an injected spike."""

    def __init__(self, pressure: Callable[[], float]) -> None:
        self._pressure = pressure

    def chamber_pressure_pa(self) -> float:
        return self._pressure()


def inject(instrument: Any, specs: Sequence[Mapping[str, Any]]) -> Any:
    """The twin ``instrument`` with ``specs`` wired in (a copy; the original is untouched).
    Only the calls a fault acts on are intercepted; every other method passes through."""
    schedule = FaultSchedule(specs, instrument.state, instrument.clock)

    def step(name: str) -> Callable[..., Any]:
        def guarded(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            schedule.before(name)
            return method(*args, **kwargs)

        return guarded

    def mill(method: Callable[[MillPattern], MillResult], pattern: MillPattern) -> MillResult:
        if not instrument.column.mills_feature(pattern):
            schedule.arm_for_mill(pattern.front_z_um)
        return step("mill")(method, pattern)

    def measured(method: Callable[[], float]) -> float:
        return method() * schedule.current_factor()

    column = {"mill": mill, "autofocus": step("autofocus"), "measured_current_na": measured}
    image = {"acquire_image": step("se_image")}
    return replace(
        instrument,
        column=delegate(IonColumn, instrument.column, column),
        se_detector=delegate(SEDetector, instrument.se_detector, image),
        tof=delegate(TofSpectrometer, instrument.tof, {"acquire_raster": step("sims_raster")}),
        vacuum=TwinVacuum(schedule.pressure_pa),
    )
