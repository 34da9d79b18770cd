"""The message vocabulary: the primitive instrument operations a step's plan function yields.

Why messages, as bluesky's plans yield them: a step is a generator that yields one message at a
time and receives its result, so it can react to what it measured (a drift, a face position, a
poor match) with plain Python control flow, while the runner stays the one place that executes,
times, logs and may stop. Each message is data, so a plan can be inspected and costed without
an instrument.

=================  ==========================================  ===========================
message            what the runner does                        the plan receives
=================  ==========================================  ===========================
SelectCurrent      selects the ladder rung nearest             the selected current (nA)
Blank / Unblank    keeps the beam off / lets it reach           None
ReadStage          reads the stage                              StagePosition
MoveStage          moves the stage (beam blanked first)         the position reached
SetBeamShift       sets the electrostatic beam shift            None
Mill               mills a pattern                              MillResult
AcquireImage       scans an SE image                            Image
AcquireRaster      scans a ToF-SIMS raster                      Raster
Autofocus          runs the column's focus routine              FocusResult
ReadClock          reads the instrument clock                   seconds
ReadDetector       reads the SE detector's contrast/brightness  (contrast, brightness)
SetDetector        sets them                                    None
Checkpoint         a safe point: abort, pause, time limit,      None (or the run stops)
                   suspenders
Keep               keeps an acquisition as a product of the     None
                   slice (emitted as ``ProductKept``)
=================  ==========================================  ===========================

Acquisitions name the product they contribute to (``product``), so the event stream can say
which acquisition fed which product (ground truth is collected per acquisition).
"""

from __future__ import annotations

from dataclasses import dataclass

from fibsims.instrument.types import (
    Image,
    MillPattern,
    Raster,
    RasterRequest,
    ScanRequest,
    StagePosition,
)


@dataclass(frozen=True)
class Msg:
    """Base of every message."""


@dataclass(frozen=True)
class SelectCurrent(Msg):
    current_na: float


@dataclass(frozen=True)
class Blank(Msg):
    pass


@dataclass(frozen=True)
class Unblank(Msg):
    pass


@dataclass(frozen=True)
class ReadStage(Msg):
    pass


@dataclass(frozen=True)
class MoveStage(Msg):
    target: StagePosition


@dataclass(frozen=True)
class SetBeamShift(Msg):
    shift_um: tuple[float, float]


@dataclass(frozen=True)
class Mill(Msg):
    pattern: MillPattern


@dataclass(frozen=True)
class AcquireImage(Msg):
    scan: ScanRequest
    product: str | None = None


@dataclass(frozen=True)
class AcquireRaster(Msg):
    request: RasterRequest
    product: str | None = None


@dataclass(frozen=True)
class Autofocus(Msg):
    pass


@dataclass(frozen=True)
class ReadClock(Msg):
    pass


@dataclass(frozen=True)
class ReadDetector(Msg):
    pass


@dataclass(frozen=True)
class SetDetector(Msg):
    contrast: float
    brightness: float


@dataclass(frozen=True)
class Checkpoint(Msg):
    pass


@dataclass(frozen=True)
class Keep(Msg):
    name: str
    product: Image | Raster
