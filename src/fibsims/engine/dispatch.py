"""Executing one message on the instrument: the only code in the engine that touches devices.

One table from message type to device call, so what each message means on an instrument is
read in one place. Stage moves blank the beam first: a beam left on during a rocking move would
mill where nobody asked. ``Checkpoint`` and ``Keep`` are the runner's own and never get here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fibsims.engine import messages as m
from fibsims.instrument.interfaces import Instrument


def _move(instrument: Instrument, msg: m.MoveStage) -> Any:
    instrument.column.blank()
    return instrument.stage.move_to(msg.target)


def _detector(instrument: Instrument, msg: m.ReadDetector) -> tuple[float, float]:
    detector = instrument.se_detector
    return detector.contrast(), detector.brightness()


def _set_detector(instrument: Instrument, msg: m.SetDetector) -> None:
    instrument.se_detector.set_contrast(msg.contrast)
    instrument.se_detector.set_brightness(msg.brightness)


DEVICE_CALLS: dict[type[m.Msg], Callable[[Instrument, Any], Any]] = {
    m.SelectCurrent: lambda i, msg: i.column.set_current_na(msg.current_na),
    m.Blank: lambda i, msg: i.column.blank(),
    m.Unblank: lambda i, msg: i.column.unblank(),
    m.ReadStage: lambda i, msg: i.stage.position(),
    m.MoveStage: _move,
    m.SetBeamShift: lambda i, msg: i.column.set_beam_shift_um(msg.shift_um),
    m.Mill: lambda i, msg: i.column.mill(msg.pattern),
    m.AcquireImage: lambda i, msg: i.se_detector.acquire_image(msg.scan),
    m.AcquireRaster: lambda i, msg: i.tof.acquire_raster(msg.request),
    m.Autofocus: lambda i, msg: i.column.autofocus(),
    m.ReadClock: lambda i, msg: i.clock.now_s(),
    m.ReadDetector: _detector,
    m.SetDetector: _set_detector,
}


def on_instrument(instrument: Instrument, msg: m.Msg) -> Any:
    """Execute ``msg`` on ``instrument`` and return what the device returned."""
    return DEVICE_CALLS[type(msg)](instrument, msg)
