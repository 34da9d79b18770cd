"""Costs when the instrument declares none: floors every instrument must respect.

A scan dwells on every pixel of every frame, so pixels x dwell x frames is a floor any backend
honours; everything else costs nothing here. Estimates made with these say "at least".
"""

from __future__ import annotations

from fibsims.engine.context import SliceContext
from fibsims.instrument.interfaces import CostModel
from fibsims.instrument.types import MillPattern, RasterRequest, ScanRequest, StagePosition

SECOND_PER_US = 1e-6


def scan_floor_s(request: ScanRequest) -> float:
    width, height = request.resolution_px
    return width * height * request.dwell_us * SECOND_PER_US * request.frames


class LowerBoundCosts(CostModel):
    """What any instrument must take at least: a scan dwells on every pixel of every frame."""

    def mill_s(
        self, pattern: MillPattern, current_na: float, at: StagePosition | None = None
    ) -> float:
        return 0.0

    def image_s(self, request: ScanRequest) -> float:
        return scan_floor_s(request)

    def raster_s(self, request: RasterRequest) -> float:
        return scan_floor_s(request.scan)

    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        return 0.0

    def current_change_s(self) -> float:
        return 0.0

    def autofocus_s(self) -> float:
        return 0.0

    def spectrum_samples(self, request: RasterRequest) -> int:
        return 0


def costs_floor(costs: CostModel | None) -> CostModel:
    """The instrument's cost model, or the floors when it has none."""
    return costs if costs is not None else LowerBoundCosts()


def costs_of(ctx: SliceContext) -> CostModel:
    return costs_floor(ctx.costs)
