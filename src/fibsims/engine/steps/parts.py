"""Long acquisitions in parts: whole frames, summed, with a checkpoint between parts.

Why: a pause or an abort waits for the running acquisition; split into parts of at most
:data:`PART_TARGET_S`, a scan of any length stops within about a minute. Frames are summed, so
parts are too. The split depends only on the request and the cost model, so a resumed run
splits the same way and repeats its data.

numpy is imported where parts are added up: a dry run (``fibsims estimate``) never adds them.
"""

from __future__ import annotations

import math
from dataclasses import replace

from fibsims.instrument.interfaces import CostModel
from fibsims.instrument.types import Image, Raster, RasterRequest, ScanRequest

PART_TARGET_S = 60.0
"""An acquisition longer than this is split into parts of whole frames."""


def frame_s(request: ScanRequest | RasterRequest, costs: CostModel) -> float:
    """Time of one frame of an acquisition."""
    if isinstance(request, ScanRequest):
        return costs.image_s(replace(request, frames=1))
    return costs.raster_s(replace(request, scan=replace(request.scan, frames=1)))


def frame_parts(frames: int, one_frame_s: float) -> list[int]:
    """Frames per part: as few parts as keep each within :data:`PART_TARGET_S`, as even as
    possible (a single frame longer than that is one part; preflight bounds it)."""
    parts = max(1, min(frames, math.ceil(frames * one_frame_s / PART_TARGET_S)))
    base, extra = divmod(frames, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def sum_images(parts: list[Image]) -> Image:
    """A pixel past the uint16 range is clipped and counted as saturated (with the largest
    fraction any part reported)."""
    if len(parts) == 1:
        return parts[0]
    import numpy as np

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


def sum_rasters(parts: list[Raster]) -> Raster:
    """Counts and spectra add; a line saturated in any part is saturated."""
    if len(parts) == 1:
        return parts[0]
    import numpy as np

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
