"""Turn each action into instrument calls. The only place the engine touches devices.

Every executor selects the action's current, unblanks only while the beam must reach the
sample, and returns what it read back. Stage moves happen with the beam blanked: a beam left on
during a rocking move would mill where nobody asked.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _mill(instrument: Instrument, action: Mill) -> StepOutput:
    current = _select_current(instrument, action)
    instrument.column.unblank()
    result = instrument.column.mill(action.pattern)
    instrument.column.blank()
    return StepOutput(
        current_na=current,
        metadata={
            "dose_nc": result.dose_nc,
            "face_z_um": result.face_z_um,
            "mill_s": result.duration_s,
        },
    )


def _rocking_polish(instrument: Instrument, action: RockingPolish) -> StepOutput:
    current = _select_current(instrument, action)
    stage, column = instrument.stage, instrument.column
    home = stage.position()
    dose_nc = 0.0
    reached = []
    for _ in range(action.passes):
        for angle in action.angles_deg:
            column.blank()
            at = stage.move_to(replace(home, rotation_deg=home.rotation_deg + angle))
            reached.append(at.rotation_deg - home.rotation_deg)
            column.unblank()
            dose_nc += column.mill(action.pattern).dose_nc
    column.blank()
    stage.move_to(home)
    return StepOutput(
        current_na=current,
        metadata={"dose_nc": dose_nc, "rocking_angles_reached_deg": reached},
    )


def _se_image(instrument: Instrument, action: SEImage) -> StepOutput:
    current = _select_current(instrument, action)
    instrument.column.unblank()
    image = instrument.se_detector.acquire_image(action.scan)
    instrument.column.blank()
    return StepOutput(
        current_na=current,
        metadata={"saturated_fraction": image.saturated_fraction},
        product=image,
    )


def _sims_raster(instrument: Instrument, action: SimsRaster) -> StepOutput:
    current = _select_current(instrument, action)
    instrument.column.unblank()
    raster = instrument.tof.acquire_raster(action.request)
    instrument.column.blank()
    return StepOutput(
        current_na=current,
        metadata={"saturated_lines": int(raster.saturated_lines.sum())},
        product=raster,
    )


def _autofocus(instrument: Instrument, action: Autofocus) -> StepOutput:
    current = _select_current(instrument, action)
    instrument.column.unblank()
    focus = instrument.column.autofocus()
    instrument.column.blank()
    return StepOutput(
        current_na=current,
        metadata={
            "defocus_before_um": focus.defocus_before_um,
            "defocus_after_um": focus.defocus_after_um,
        },
    )


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
