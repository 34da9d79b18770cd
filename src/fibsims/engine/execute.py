"""Turn each action into instrument calls. The only place the engine touches devices.

Every executor selects the action's current, unblanks only while the beam must reach the
sample, and returns what it read back. Stage moves happen with the beam blanked: a beam left on
during a rocking move would mill where nobody asked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from fibsims.engine.actions import (
    Action,
    Autofocus,
    Mill,
    RockingPolish,
    SEImage,
    SimsRaster,
)
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Image, Raster


@dataclass
class StepOutput:
    """What an executed action yields: the current used, read-backs and an optional product."""

    current_na: float
    metadata: dict[str, Any] = field(default_factory=dict)
    product: Image | Raster | None = None


def _select_current(instrument: Instrument, action: Action) -> float:
    return instrument.column.set_current_na(action.current_na)


@contextlib.contextmanager
def _beam_on(instrument: Instrument, action: Action) -> Iterator[float]:
    """Select the action's current and unblank; blank again however the block ends."""
    current = _select_current(instrument, action)
    instrument.column.unblank()
    try:
        yield current
    finally:
        instrument.column.blank()


def _mill(instrument: Instrument, action: Mill) -> StepOutput:
    with _beam_on(instrument, action) as current:
        result = instrument.column.mill(action.pattern)
    metadata = {"dose_nc": result.dose_nc, "face_z_um": result.face_z_um}
    return StepOutput(current_na=current, metadata={**metadata, "mill_s": result.duration_s})


def _rocking_polish(instrument: Instrument, action: RockingPolish) -> StepOutput:
    current = _select_current(instrument, action)
    stage, column = instrument.stage, instrument.column
    home = stage.position()
    dose_nc = 0.0
    reached = []
    try:
        for _ in range(action.passes):
            for angle in action.angles_deg:
                column.blank()
                at = stage.move_to(replace(home, rotation_deg=home.rotation_deg + angle))
                reached.append(at.rotation_deg - home.rotation_deg)
                column.unblank()
                dose_nc += column.mill(action.pattern).dose_nc
    finally:
        column.blank()
    stage.move_to(home)
    return StepOutput(
        current_na=current,
        metadata={"dose_nc": dose_nc, "rocking_angles_reached_deg": reached},
    )


def _se_image(instrument: Instrument, action: SEImage) -> StepOutput:
    with _beam_on(instrument, action) as current:
        image = instrument.se_detector.acquire_image(action.scan)
    metadata = {"saturated_fraction": image.saturated_fraction}
    return StepOutput(current_na=current, metadata=metadata, product=image)


def _sims_raster(instrument: Instrument, action: SimsRaster) -> StepOutput:
    with _beam_on(instrument, action) as current:
        raster = instrument.tof.acquire_raster(action.request)
    lines = raster.saturated_lines
    metadata = {
        "saturated_lines": int(lines.sum()),
        "saturated_line_fraction": float(lines.mean()) if lines.size else 0.0,
    }
    return StepOutput(current_na=current, metadata=metadata, product=raster)


def _autofocus(instrument: Instrument, action: Autofocus) -> StepOutput:
    with _beam_on(instrument, action) as current:
        focus = instrument.column.autofocus()
    metadata = {
        "defocus_before_um": focus.defocus_before_um,
        "defocus_after_um": focus.defocus_after_um,
    }
    return StepOutput(current_na=current, metadata=metadata)


EXECUTORS: dict[str, Callable[[Instrument, Any], StepOutput]] = {
    Mill.kind: _mill,
    RockingPolish.kind: _rocking_polish,
    SEImage.kind: _se_image,
    SimsRaster.kind: _sims_raster,
    Autofocus.kind: _autofocus,
}


def execute(instrument: Instrument, action: Action) -> StepOutput:
    """Run ``action`` on ``instrument``; the beam is blanked again when this returns normally."""
    return EXECUTORS[action.kind](instrument, action)
