"""Device proxies: the instrument interfaces implemented by calls over a :class:`Link`.

Each method validates its arguments into the wire model, calls the method of the same name on
the server, and decodes the reply into the value types the engine expects, so the engine cannot
tell a remote instrument from an in-process one. An argument the server would refuse (NaN, a
bool for a number, a contrast above 1) is refused here, before sending, with the same error
class, and so is a result that does not decode into the type the interface promises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from fibsims.instrument.interfaces import (
    Clock,
    CostModel,
    GroundTruth,
    IonColumn,
    SEDetector,
    Stage,
    TofSpectrometer,
    Vacuum,
)
from fibsims.instrument.transport.errors import LinkProtocolError
from fibsims.instrument.transport.frames import summarize_validation
from fibsims.instrument.transport.link import Link
from fibsims.instrument.transport.methods import (
    METHODS,
    CurrentParams,
    LevelParams,
    MillCostParams,
    MoveCostParams,
    PatternParams,
    RasterParams,
    ScanParams,
    SecondsParams,
    ShiftParams,
    TargetParams,
    VoltageParams,
)
from fibsims.instrument.transport.protocol import WireModel
from fibsims.instrument.transport.values import (
    MillPatternW,
    RasterRequestW,
    ScanRequestW,
    StagePositionW,
)
from fibsims.instrument.types import (
    AcquisitionGeometry,
    FocusResult,
    Image,
    MillPattern,
    MillResult,
    Raster,
    RasterRequest,
    ScanRequest,
    StagePosition,
)


class _Remote:
    def __init__(self, link: Link) -> None:
        self._link = link

    def _call(self, name: str, params: Callable[[], WireModel] | None = None) -> Any:
        """Call ``name`` with the parameters ``params`` builds (validated before sending)."""
        method = METHODS[name]
        try:
            built = params() if params is not None else None
        except ValidationError as error:
            problems = summarize_validation(error, lead="")
            raise LinkProtocolError(
                f"{name} was not sent: {problems} (the server would refuse it as bad_request)"
            ) from None
        result, arrays = self._link.call(name, built, idempotent=method.idempotent)
        try:
            return method.result.decode(result, arrays)
        except ValueError as error:  # pydantic's ValidationError included
            raise LinkProtocolError(
                f"the instrument server at {self._link.address} answered {name} with a result "
                f"that does not decode: {error}"
            ) from None


class RemoteClock(_Remote, Clock):
    def now_s(self) -> float:
        """The server's instrument time. Once the link is lost, the last time it reported:
        no instrument time passes that the orchestrator could see, and the engine can still
        stamp the events that close the run."""
        if self._link.lost is not None:
            return self._link.last_clock_s
        value: float = self._call("clock.now_s")
        self._link.last_clock_s = value
        return value

    def sleep(self, seconds: float) -> None:
        self._call("clock.sleep", lambda: SecondsParams(seconds=seconds))


class RemoteStage(_Remote, Stage):
    def position(self) -> StagePosition:
        return self._call("stage.position")

    def move_to(self, target: StagePosition) -> StagePosition:
        return self._call("stage.move_to", lambda: TargetParams(target=StagePositionW.of(target)))


class RemoteColumn(_Remote, IonColumn):
    def __init__(self, link: Link, ion_species: str) -> None:
        super().__init__(link)
        self._ion_species = ion_species

    @property
    def ion_species(self) -> str:
        """Fixed by the source: read once when the session opened."""
        return self._ion_species

    def voltage_kv(self) -> float:
        return self._call("column.voltage_kv")

    def set_voltage_kv(self, voltage_kv: float) -> None:
        self._call("column.set_voltage_kv", lambda: VoltageParams(voltage_kv=voltage_kv))

    def current_ladder_na(self) -> Sequence[float]:
        return self._call("column.current_ladder_na")

    def current_na(self) -> float:
        return self._call("column.current_na")

    def measured_current_na(self) -> float:
        return self._call("column.measured_current_na")

    def set_current_na(self, current_na: float) -> float:
        return self._call("column.set_current_na", lambda: CurrentParams(current_na=current_na))

    def is_blanked(self) -> bool:
        return self._call("column.is_blanked")

    def blank(self) -> None:
        self._call("column.blank")

    def unblank(self) -> None:
        self._call("column.unblank")

    def beam_shift_um(self) -> tuple[float, float]:
        return self._call("column.beam_shift_um")

    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        self._call("column.set_beam_shift_um", lambda: ShiftParams(shift_um=shift_um))

    def mill(self, pattern: MillPattern) -> MillResult:
        return self._call("column.mill", lambda: PatternParams(pattern=MillPatternW.of(pattern)))

    def autofocus(self) -> FocusResult:
        return self._call("column.autofocus")


class RemoteSEDetector(_Remote, SEDetector):
    def acquire_image(self, request: ScanRequest) -> Image:
        return self._call("se_detector.acquire_image", lambda: _scan(request))

    def contrast(self) -> float:
        return self._call("se_detector.contrast")

    def set_contrast(self, value: float) -> None:
        self._call("se_detector.set_contrast", lambda: LevelParams(value=value))

    def brightness(self) -> float:
        return self._call("se_detector.brightness")

    def set_brightness(self, value: float) -> None:
        self._call("se_detector.set_brightness", lambda: LevelParams(value=value))


class RemoteTof(_Remote, TofSpectrometer):
    def acquire_raster(self, request: RasterRequest) -> Raster:
        return self._call("tof.acquire_raster", lambda: _raster(request))


class RemoteVacuum(_Remote, Vacuum):
    def chamber_pressure_pa(self) -> float:
        return self._call("vacuum.chamber_pressure_pa")


class RemoteTruth(_Remote, GroundTruth):
    def last_image_truth(self) -> dict[str, np.ndarray]:
        return self._call("truth.last_image_truth")

    def last_raster_truth(self) -> dict[str, np.ndarray]:
        return self._call("truth.last_raster_truth")

    def last_geometry(self) -> AcquisitionGeometry:
        return self._call("truth.last_geometry")

    def sample_state(self) -> dict[str, Any]:
        """Plain JSON types: a tuple the backend returned arrives as a list."""
        return self._call("truth.sample_state")


class RemoteCosts(_Remote, CostModel):
    """The server's cost model: the same figures the in-process backend would give."""

    def mill_s(
        self, pattern: MillPattern, current_na: float, at: StagePosition | None = None
    ) -> float:
        return self._call(
            "costs.mill_s",
            lambda: MillCostParams(
                pattern=MillPatternW.of(pattern),
                current_na=current_na,
                at=None if at is None else StagePositionW.of(at),
            ),
        )

    def image_s(self, request: ScanRequest) -> float:
        return self._call("costs.image_s", lambda: _scan(request))

    def raster_s(self, request: RasterRequest) -> float:
        return self._call("costs.raster_s", lambda: _raster(request))

    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        return self._call(
            "costs.move_s",
            lambda: MoveCostParams(start=StagePositionW.of(start), end=StagePositionW.of(end)),
        )

    def current_change_s(self) -> float:
        return self._call("costs.current_change_s")

    def autofocus_s(self) -> float:
        return self._call("costs.autofocus_s")

    def spectrum_samples(self, request: RasterRequest) -> int:
        return self._call("costs.spectrum_samples", lambda: _raster(request))


def _scan(request: ScanRequest) -> ScanParams:
    return ScanParams(request=ScanRequestW.of(request))


def _raster(request: RasterRequest) -> RasterParams:
    return RasterParams(request=RasterRequestW.of(request))
