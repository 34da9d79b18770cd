"""A small scripted instrument for engine tests: exact timings, injectable faults.

The engine is tested against this fake rather than the twin so that each test controls the
instrument's behaviour (a fault on the 3rd mill, a fixed duration) and fails for engine reasons
only. The twin has its own tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from fibsims.engine.events import Event
from fibsims.engine.journal import Journal
from fibsims.engine.records import SliceAssembler, SliceRecord
from fibsims.engine.store import Receipt, SliceSeal, StoreError
from fibsims.instrument import (
    AcquisitionGeometry,
    Clock,
    FocusResult,
    GroundTruth,
    HardwareFault,
    Image,
    Instrument,
    IonColumn,
    MillPattern,
    MillResult,
    Peak,
    Raster,
    RasterRequest,
    ScanRequest,
    SEDetector,
    Spectrum,
    Stage,
    StagePosition,
    TofSpectrometer,
    Vacuum,
)
from fibsims.instrument.errors import InstrumentError
from fibsims.recipe import parse_recipe
from fibsims.testing.fakes import fake_class

LADDER_NA = (0.01, 0.1, 0.8, 4.0, 15.0, 60.0)
SWITCH_S = 10.0
MILL_S = 30.0
MOVE_S = 5.0
FOCUS_S = 12.0


class FakeClock(Clock):
    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Calls:
    """Records device calls; ``fail_on`` maps a call name to the call numbers that fail, and
    ``error`` to the exception class they raise (HardwareFault by default)."""

    log: list[str] = field(default_factory=list)
    fail_on: dict[str, int | set[int]] = field(default_factory=dict)
    error: dict[str, type[Exception]] = field(default_factory=dict)

    def record(self, name: str, blanked: bool | None = None) -> None:
        self.log.append(name)
        failing = self.fail_on.get(name, set())
        failing = {failing} if isinstance(failing, int) else failing
        count = self.log.count(name)
        if count in failing:
            raise self.error.get(name, HardwareFault)(f"injected fault on {name} #{count}")


class FakeStage(Stage):
    def __init__(self, clock: FakeClock, calls: Calls) -> None:
        self.clock, self.calls, self.pos = clock, calls, StagePosition()
        self.column: FakeColumn | None = None
        self.moves_with_beam_on = 0

    def position(self) -> StagePosition:
        return self.pos

    def move_to(self, target: StagePosition) -> StagePosition:
        self.calls.record("move")
        if self.column is not None and not self.column.blanked:
            self.moves_with_beam_on += 1
        self.clock.sleep(MOVE_S)
        self.pos = target
        return target


class FakeColumn(fake_class(IonColumn)):  # type: ignore[misc]
    """Voltage and beam shift are settings (:func:`~fibsims.testing.fakes.fake_class`)."""

    def __init__(self, clock: FakeClock, calls: Calls) -> None:
        super().__init__({"voltage_kv": 30.0, "beam_shift_um": (0.0, 0.0)})
        self.clock, self.calls = clock, calls
        self.current, self.blanked, self.face_z_um = 0.01, True, 0.0
        self.current_factor = lambda t: 1.0  # measured / selected current at instrument time t

    ion_species = "Xe"

    def current_ladder_na(self) -> Sequence[float]:
        return LADDER_NA

    def current_na(self) -> float:
        return self.current

    def set_current_na(self, current_na: float) -> float:
        rung = min(LADDER_NA, key=lambda r: abs(r - current_na))
        if rung != self.current:
            self.clock.sleep(SWITCH_S)
        self.current = rung
        return rung

    def measured_current_na(self) -> float:
        return self.current * self.current_factor(self.clock.t)

    def is_blanked(self) -> bool:
        return self.blanked

    def blank(self) -> None:
        self.blanked = True

    def unblank(self) -> None:
        self.blanked = False

    def _require_beam(self) -> None:
        if self.blanked:
            raise InstrumentError("beam is blanked")

    def mill(self, pattern: MillPattern) -> MillResult:
        self.calls.record("mill")
        self._require_beam()
        self.clock.sleep(MILL_S)
        self.face_z_um = pattern.front_z_um
        return MillResult(MILL_S, MILL_S * self.current, self.face_z_um, self.current)

    def autofocus(self) -> FocusResult:
        self.calls.record("autofocus")
        self._require_beam()
        self.clock.sleep(FOCUS_S)
        return FocusResult(FOCUS_S, defocus_before_um=1.0, defocus_after_um=0.0)


class FakeDetector(fake_class(SEDetector)):  # type: ignore[misc]
    """Contrast and brightness are settings."""

    def __init__(self, clock: FakeClock, calls: Calls, column: FakeColumn) -> None:
        super().__init__({"contrast": 0.5, "brightness": 0.5})
        self.clock, self.calls, self.column = clock, calls, column

    def acquire_image(self, request: ScanRequest) -> Image:
        self.calls.record("image")
        self.column._require_beam()
        w, h = request.resolution_px
        self.last_shape = (h, w)
        duration = w * h * request.dwell_us * 1e-6 * request.frames
        self.clock.sleep(duration)
        value = round(self.column.face_z_um * 1000)
        pixels = np.full((h, w), value, dtype=np.uint16)
        return Image(
            pixels,
            request.pixel_size_nm,
            request.dwell_us,
            request.frames,
            self.column.current,
            duration,
        )


class FakeTof(TofSpectrometer):
    def __init__(self, clock: FakeClock, calls: Calls, column: FakeColumn) -> None:
        self.clock, self.calls, self.column = clock, calls, column
        self.saturated_fraction = 0.0

    def acquire_raster(self, request: RasterRequest) -> Raster:
        self.calls.record("raster")
        self.column._require_beam()
        w, h = request.scan.resolution_px
        self.last_shape = (h, w)
        duration = w * h * request.scan.dwell_us * 1e-6 * request.scan.frames
        self.clock.sleep(duration)
        peaks = tuple(Peak(label, 7.0, 6.9, 7.1) for label in request.peaks)
        maps = np.full((len(peaks), h, w), 3, dtype=np.uint32)
        spectrum = Spectrum(
            np.ones(16), np.linspace(1, 16, 16, dtype=np.float32), 812.0, 222.0, 0.8333e-9
        )
        saturated = np.zeros(h, dtype=np.uint8)
        saturated[: int(h * self.saturated_fraction)] = 1
        return Raster(
            peaks,
            maps,
            spectrum,
            request.scan.pixel_size_nm,
            request.scan.dwell_us,
            request.scan.frames,
            self.column.current,
            duration,
            saturated,
        )


class FakeTruth(GroundTruth):
    """Truth maps shaped like the last acquisition, filled with the face depth in nm."""

    def __init__(self, column: FakeColumn, detector: FakeDetector, tof: FakeTof) -> None:
        self.column, self.detector, self.tof = column, detector, tof

    def _maps(self, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        depth = np.full(shape, self.column.face_z_um * 1000, dtype=np.float32)
        return {"labels": np.ones(shape, dtype=np.uint8), "li_fraction": depth}

    def last_image_truth(self) -> dict[str, np.ndarray]:
        return self._maps(self.detector.last_shape)

    def last_raster_truth(self) -> dict[str, np.ndarray]:
        return self._maps(self.tof.last_shape)

    def last_geometry(self) -> AcquisitionGeometry:
        return AcquisitionGeometry((0.0, 0.0, 0.0), (0.0, 0.0), self.column.face_z_um, 0.0)

    def sample_state(self) -> dict:
        return {"face_z_um": self.column.face_z_um}


class FakeVacuum(Vacuum):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pressure = lambda t: 1e-4

    def chamber_pressure_pa(self) -> float:
        return self.pressure(self.clock.t)


def make_fake_instrument(
    fail_on: dict[str, int | set[int]] | None = None,
    error: dict[str, type[Exception]] | None = None,
) -> Instrument:
    clock, calls = FakeClock(), Calls(fail_on=fail_on or {}, error=error or {})
    column = FakeColumn(clock, calls)
    stage = FakeStage(clock, calls)
    stage.column = column
    detector, tof = FakeDetector(clock, calls, column), FakeTof(clock, calls, column)
    instrument = Instrument(
        name="fake",
        clock=clock,
        stage=stage,
        column=column,
        se_detector=detector,
        tof=tof,
        vacuum=FakeVacuum(clock),
        truth=FakeTruth(column, detector, tof),
    )
    instrument.calls = calls  # type: ignore[attr-defined]
    return instrument


RECIPE_TEXT = """
recipe: engine-test
version: 1
sample: {name: test}
instrument: {ion_species: Xe, voltage_kv: 30}
volume: {face_width_um: 20, face_height_um: 15, slice_thickness_nm: 25, slices: 4}
slice:
  - mill: {current_na: 15, depth_um: 18}
  - rocking_polish: {current_na: 4, angles_deg: [-20, 20]}
  - se_image: {current_pa: 100, resolution: [32, 16], dwell_us: 1}
  - sims_raster: {current_pa: 800, resolution: [8, 8], dwell_us: 10, frames: 2,
                  peaks: [7Li+]}
every: [{slices: 2, do: autofocus}]
"""


class MemoryStore:
    """A SliceStore that keeps records in a list; optionally fails on a given slice."""

    def __init__(self, fail_on_slice: int | None = None) -> None:
        self.records: list[SliceRecord] = []
        self.set_aside_records: list[SliceRecord] = []
        self.fail_on_slice = fail_on_slice
        self.assembler = SliceAssembler()

    def __call__(self, event: Event) -> None:
        self.assembler(event)

    def commit(self, seal: SliceSeal) -> Receipt:
        if seal.index == self.fail_on_slice:
            raise StoreError("disk full (injected)")
        record = self.assembler.record(seal)
        self.assembler.clear()
        self.records.append(record)
        return Receipt(crc32=f"{record.index:08x}", bytes=record.index)

    def set_aside(self, seal: SliceSeal) -> None:
        if self.assembler.holds_anything:
            self.set_aside_records.append(self.assembler.record(seal))
            self.assembler.clear()


@pytest.fixture
def recipe():
    return parse_recipe(RECIPE_TEXT)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.jsonl")


@pytest.fixture
def make_instrument():
    return make_fake_instrument


@pytest.fixture
def make_store():
    return MemoryStore
