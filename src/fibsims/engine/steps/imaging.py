"""``se_image`` and ``sims_raster``: scan the face and keep the data as the slice's products.

Both split a long scan into parts with a checkpoint between them (:mod:`.parts`). An SE image
is also where the run follows its fiducial (:mod:`.fiducial`): the drift and the face position
it measures move the beam for every later scan and cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fibsims.engine import messages as m
from fibsims.engine.context import SliceContext
from fibsims.engine.costs import costs_of
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.engine.steps.fiducial import correct_drift, follow_fiducial
from fibsims.engine.steps.parts import frame_parts, frame_s, sum_images, sum_rasters
from fibsims.instrument.types import Polarity, RasterRequest, ScanRequest
from fibsims.recipe import SEImageStep, SimsRasterStep
from fibsims.recipe.scan_field import field_width_on


def scan_request(step: SEImageStep | SimsRasterStep, face_width_um: float) -> ScanRequest:
    """The scan a step asks for; the field is the face's width unless the step says."""
    return ScanRequest(
        resolution_px=(int(step.resolution[0]), int(step.resolution[1])),
        dwell_us=step.dwell_us,
        frames=step.frames,
        field_width_um=field_width_on(step, face_width_um),
        center_x_um=step.field_center_um[0],
        center_y_um=step.field_center_um[1],
    )


def raster_request(step: SimsRasterStep, face_width_um: float) -> RasterRequest:
    return RasterRequest(
        scan=scan_request(step, face_width_um),
        polarity=Polarity(step.polarity),
        peaks=tuple(step.peaks),
    )


def _in_parts(
    current_na: float,
    frames: int,
    one_frame_s: float,
    acquire: Callable[[int], m.Msg],
) -> PlanFn:
    """Acquire ``frames`` in parts, beam on only while scanning; return (current, parts)."""
    parts: list[Any] = []
    current = 0.0
    for number, part_frames in enumerate(frame_parts(frames, one_frame_s)):
        if number:
            yield m.Checkpoint()  # between parts, with the beam blanked
        current = yield from beam_on(current_na)
        try:
            parts.append((yield acquire(part_frames)))
        finally:
            yield m.Blank()
    return current, parts


@step_kind("se_image")
def se_image(step: SEImageStep, ctx: SliceContext) -> PlanFn:
    scan = scan_request(step, ctx.recipe.volume.face_width_um)
    name = ctx.product or "se_image"
    yield from correct_drift(ctx)
    current, parts = yield from _in_parts(
        step.current_na,
        scan.frames,
        frame_s(scan, costs_of(ctx)),
        lambda frames: m.AcquireImage(replace(scan, frames=frames), product=name),
    )
    image = parts[0] if ctx.dry_run else sum_images(parts)  # stand-ins: nothing to add up
    yield m.Keep(name, image)
    metadata: dict[str, Any] = {
        "saturated_fraction": image.saturated_fraction,
        "parts": len(parts),
    }
    if ctx.recipe.fiducial is not None and not ctx.dry_run:
        metadata.update((yield from follow_fiducial(image, scan, current, ctx)))
    return StepOutput(current, metadata)


@step_kind("sims_raster")
def sims_raster(step: SimsRasterStep, ctx: SliceContext) -> PlanFn:
    request = raster_request(step, ctx.recipe.volume.face_width_um)
    name = ctx.product or "sims_raster"
    yield from correct_drift(ctx)
    current, parts = yield from _in_parts(
        step.current_na,
        request.scan.frames,
        frame_s(request, costs_of(ctx)),
        lambda frames: m.AcquireRaster(
            replace(request, scan=replace(request.scan, frames=frames)), product=name
        ),
    )
    if ctx.dry_run:  # stand-ins: nothing to add up or judge
        yield m.Keep(name, parts[0])
        return StepOutput(current, {"parts": len(parts)})
    raster = sum_rasters(parts)
    yield m.Keep(name, raster)
    lines = raster.saturated_lines
    return StepOutput(
        current,
        {
            "saturated_lines": int(lines.sum()),
            "saturated_line_fraction": float(lines.mean()) if lines.size else 0.0,
            "parts": len(parts),
        },
    )
