"""Turn each action into instrument calls. The only place the engine touches devices.

Every executor selects the action's current, unblanks only while the beam must reach the
sample, and returns what it read back. Stage moves happen with the beam blanked: a beam left on
during a rocking move would mill where nobody asked.

Long steps stay stoppable: a rocking polish calls the step's ``checkpoint`` between angles and
passes, and an acquisition longer than :data:`PART_TARGET_S` is split into parts of whole
frames, summed, with a checkpoint between parts. A checkpoint may raise (pause, abort, a time
limit), so a pause or an abort takes effect within about a minute whatever the recipe says.
The split depends only on the action and the instrument's cost model, so a resumed run splits
the same way and stays identical to one never stopped.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fibsims.engine.actions import (
    Action,
    Autofocus,
    Mill,
    RockingPolish,
    SEImage,
    SimsRaster,
)
from fibsims.engine.estimate import LowerBoundCosts, frame_s
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Image, Raster

PART_TARGET_S = 60.0
"""An acquisition longer than this is split into parts of whole frames, with a checkpoint
between parts: how long a pause or an abort may wait for a running acquisition."""

Product = Image | Raster


@dataclass
class StepOutput:
    """What an executed action yields: the current used, read-backs and an optional product."""

    current_na: float
    metadata: dict[str, Any] = field(default_factory=dict)
    product: Product | None = None


@dataclass(frozen=True)
class StepHooks:
    """What the runner lends a step: a checkpoint between the parts of a long step (it may
    raise to stop the run) and a callback after each acquired part (ground truth)."""

    checkpoint: Callable[[], None] = lambda: None
    part_done: Callable[[Product], None] = lambda product: None


NO_HOOKS = StepHooks()


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


def _mill(instrument: Instrument, action: Mill, hooks: StepHooks) -> StepOutput:
    with _beam_on(instrument, action) as current:
        result = instrument.column.mill(action.pattern)
    metadata = {"dose_nc": result.dose_nc, "face_z_um": result.face_z_um}
    return StepOutput(current_na=current, metadata={**metadata, "mill_s": result.duration_s})


def _rocking_polish(instrument: Instrument, action: RockingPolish, hooks: StepHooks) -> StepOutput:
    current = _select_current(instrument, action)
    stage, column = instrument.stage, instrument.column
    home = stage.position()
    dose_nc = 0.0
    reached = []
    try:
        for number in range(action.passes * len(action.angles_deg)):
            column.blank()
            if number:
                hooks.checkpoint()
            angle = action.angles_deg[number % len(action.angles_deg)]
            at = stage.move_to(replace(home, rotation_deg=home.rotation_deg + angle))
            reached.append(at.rotation_deg - home.rotation_deg)
            column.unblank()
            dose_nc += column.mill(action.pattern).dose_nc
    except BaseException:
        # however the polish stops, the stage goes home (beam blanked first): the next
        # slice's polish rocks about it; a failure here must not hide the one that stopped it
        with contextlib.suppress(InstrumentError):
            column.blank()
            stage.move_to(home)
        raise
    column.blank()
    stage.move_to(home)
    return StepOutput(
        current_na=current,
        metadata={"dose_nc": dose_nc, "rocking_angles_reached_deg": reached},
    )


def frame_parts(action: SEImage | SimsRaster, instrument: Instrument) -> list[int]:
    """Frames per part: as few parts as keep each within :data:`PART_TARGET_S`, as even as
    possible (a single frame longer than that is one part; preflight bounds it)."""
    frames = action.scan.frames if isinstance(action, SEImage) else action.request.scan.frames
    one_frame_s = frame_s(action, instrument.costs or LowerBoundCosts())
    parts = max(1, min(frames, math.ceil(frames * one_frame_s / PART_TARGET_S)))
    base, extra = divmod(frames, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def _acquire_in_parts(
    instrument: Instrument,
    action: SEImage | SimsRaster,
    hooks: StepHooks,
    acquire: Callable[[int], Product],
) -> tuple[float, list[Product]]:
    parts: list[Product] = []
    selected: list[float] = []
    for number, frames in enumerate(frame_parts(action, instrument)):
        if number:
            hooks.checkpoint()  # between parts, with the beam blanked
        with _beam_on(instrument, action) as current:
            part = acquire(frames)
        hooks.part_done(part)
        parts.append(part)
        selected.append(current)
    return selected[-1], parts


def _sum_images(parts: list[Image]) -> Image:
    """Frames are summed, so parts are too; a pixel past the uint16 range is clipped and
    counted as saturated (with the largest fraction any part reported)."""
    if len(parts) == 1:
        return parts[0]
    total = np.sum([p.pixels for p in parts], axis=0, dtype=np.uint32)
    ceiling = np.iinfo(np.uint16).max
    clipped = float(np.count_nonzero(total > ceiling)) / total.size
    return replace(
        parts[0],
        pixels=np.minimum(total, ceiling).astype(np.uint16),
        frames=sum(p.frames for p in parts),
        duration_s=sum(p.duration_s for p in parts),
        saturated_fraction=max(clipped, *(p.saturated_fraction for p in parts)),
    )


def _sum_rasters(parts: list[Raster]) -> Raster:
    """Counts and spectra add; a line saturated in any part is saturated."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    lines = np.zeros_like(first.saturated_lines)
    for part in parts:
        lines |= part.saturated_lines
    return replace(
        first,
        count_maps=np.sum([p.count_maps for p in parts], axis=0, dtype=np.uint32),
        spectrum=replace(first.spectrum, counts=np.sum([p.spectrum.counts for p in parts], axis=0)),
        frames=sum(p.frames for p in parts),
        duration_s=sum(p.duration_s for p in parts),
        saturated_lines=lines,
    )


def _se_image(instrument: Instrument, action: SEImage, hooks: StepHooks) -> StepOutput:
    def acquire(frames: int) -> Image:
        return instrument.se_detector.acquire_image(replace(action.scan, frames=frames))

    current, parts = _acquire_in_parts(instrument, action, hooks, acquire)
    image = _sum_images(parts)  # type: ignore[arg-type]
    metadata = {"saturated_fraction": image.saturated_fraction, "parts": len(parts)}
    return StepOutput(current_na=current, metadata=metadata, product=image)


def _sims_raster(instrument: Instrument, action: SimsRaster, hooks: StepHooks) -> StepOutput:
    request = action.request

    def acquire(frames: int) -> Raster:
        part = replace(request, scan=replace(request.scan, frames=frames))
        return instrument.tof.acquire_raster(part)

    current, parts = _acquire_in_parts(instrument, action, hooks, acquire)
    raster = _sum_rasters(parts)  # type: ignore[arg-type]
    lines = raster.saturated_lines
    metadata = {
        "saturated_lines": int(lines.sum()),
        "saturated_line_fraction": float(lines.mean()) if lines.size else 0.0,
        "parts": len(parts),
    }
    return StepOutput(current_na=current, metadata=metadata, product=raster)


def _autofocus(instrument: Instrument, action: Autofocus, hooks: StepHooks) -> StepOutput:
    with _beam_on(instrument, action) as current:
        focus = instrument.column.autofocus()
    metadata = {
        "defocus_before_um": focus.defocus_before_um,
        "defocus_after_um": focus.defocus_after_um,
    }
    return StepOutput(current_na=current, metadata=metadata)


EXECUTORS: dict[str, Callable[[Instrument, Any, StepHooks], StepOutput]] = {
    Mill.kind: _mill,
    RockingPolish.kind: _rocking_polish,
    SEImage.kind: _se_image,
    SimsRaster.kind: _sims_raster,
    Autofocus.kind: _autofocus,
}


def execute(instrument: Instrument, action: Action, hooks: StepHooks = NO_HOOKS) -> StepOutput:
    """Run ``action`` on ``instrument``; the beam is blanked again however this ends."""
    return EXECUTORS[action.kind](instrument, action, hooks)
