"""A null instrument for ``overhead.py``: every device returns at once with tiny arrays.

Why: to time the orchestration alone (engine, events, journal), the devices must cost nothing.
Modelled on the scripted fake of ``tests/engine/conftest.py``, without its call log or faults;
its clock advances by a fixed step per action so instrument timestamps still increase.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fibsims.instrument import (
    Clock,
    FocusResult,
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
)
from fibsims.testing.fakes import fake_class

LADDER_NA = (0.01, 0.1, 0.3, 0.8, 4.0, 15.0)
ACTION_S = 1.0
"""Instrument seconds each action takes: any constant will do, none is waited for."""


class NullClock(Clock):
    def __init__(self) -> None:
        self.t = 0.0

    def now_s(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class NullStage(Stage):
    def __init__(self, clock: NullClock) -> None:
        self.clock, self.pos = clock, StagePosition()

    def position(self) -> StagePosition:
        return self.pos

    def move_to(self, target: StagePosition) -> StagePosition:
        self.clock.sleep(ACTION_S)
        self.pos = target
        return target


class NullColumn(fake_class(IonColumn)):  # type: ignore[misc]
    """Voltage and beam shift are settings (:func:`~fibsims.testing.fakes.fake_class`)."""

    ion_species = "Xe"

    def __init__(self, clock: NullClock) -> None:
        super().__init__({"voltage_kv": 30.0, "beam_shift_um": (0.0, 0.0)})
        self.clock, self.current, self.blanked = clock, 0.01, True

    def current_ladder_na(self) -> Sequence[float]:
        return LADDER_NA

    def current_na(self) -> float:
        return self.current

    def set_current_na(self, current_na: float) -> float:
        self.current = min(LADDER_NA, key=lambda rung: abs(rung - current_na))
        return self.current

    def is_blanked(self) -> bool:
        return self.blanked

    def blank(self) -> None:
        self.blanked = True

    def unblank(self) -> None:
        self.blanked = False

    def mill(self, pattern: MillPattern) -> MillResult:
        self.clock.sleep(ACTION_S)
        return MillResult(ACTION_S, ACTION_S * self.current, pattern.front_z_um, self.current)

    def autofocus(self) -> FocusResult:
        self.clock.sleep(ACTION_S)
        return FocusResult(0.0, 0.0, ACTION_S)


class NullDetector(fake_class(SEDetector)):  # type: ignore[misc]
    """Contrast and brightness are settings."""

    def __init__(self, clock: NullClock, column: NullColumn) -> None:
        super().__init__({"contrast": 0.5, "brightness": 0.5})
        self.clock, self.column = clock, column

    def acquire_image(self, request: ScanRequest) -> Image:
        self.clock.sleep(ACTION_S)
        w, h = request.resolution_px
        pixels = np.zeros((h, w), dtype=np.uint16)
        return Image(
            pixels,
            request.pixel_size_nm,
            request.dwell_us,
            request.frames,
            self.column.current,
            ACTION_S,
        )


class NullTof(TofSpectrometer):
    def __init__(self, clock: NullClock, column: NullColumn) -> None:
        self.clock, self.column = clock, column
        self.spectrum = Spectrum(np.zeros(4), np.arange(4, dtype=np.float32), 812.0, 222.0, 1e-9)

    def acquire_raster(self, request: RasterRequest) -> Raster:
        self.clock.sleep(ACTION_S)
        w, h = request.scan.resolution_px
        peaks = tuple(Peak(label, 7.0, 6.9, 7.1) for label in request.peaks)
        return Raster(
            peaks,
            np.zeros((len(peaks), h, w), dtype=np.uint32),
            self.spectrum,
            request.scan.pixel_size_nm,
            request.scan.dwell_us,
            request.scan.frames,
            self.column.current,
            ACTION_S,
            np.zeros(h, dtype=np.uint8),
        )


def null_instrument() -> Instrument:
    clock = NullClock()
    column = NullColumn(clock)
    return Instrument(
        name="null",
        clock=clock,
        stage=NullStage(clock),
        column=column,
        se_detector=NullDetector(clock, column),
        tof=NullTof(clock, column),
    )
