"""The twin's cost model: what each action will take, from the same functions the devices use.

Why the same functions: preflight refuses a run that would overrun ``limits.max_hours`` or the
disk, so its estimate must be the time the action then takes, not a second model that can
drift from it. Every figure here is what :mod:`fibsims_twin.column`, :mod:`~fibsims_twin.stage`,
:mod:`~fibsims_twin.detector` and :mod:`~fibsims_twin.tof` sleep for.
"""

from __future__ import annotations

from fibsims.instrument import CostModel, MillPattern, RasterRequest, ScanRequest, StagePosition
from fibsims_twin.column import autofocus_duration_s, mill_duration_s
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.scan import scan_duration_s
from fibsims_twin.spectrum import n_samples
from fibsims_twin.stage import move_duration_s


class TwinCosts(CostModel):
    def __init__(self, parameters: TwinParameters) -> None:
        self._p = parameters

    def mill_s(self, pattern: MillPattern, current_na: float) -> float:
        return mill_duration_s(pattern, current_na, self._p.materials)

    def image_s(self, request: ScanRequest) -> float:
        flyback = self._p.detector.line_flyback_s
        return scan_duration_s(request.resolution_px, request.dwell_us, request.frames, flyback)

    def raster_s(self, request: RasterRequest) -> float:
        scan = request.scan
        flyback = self._p.tof.line_flyback_s
        return scan_duration_s(scan.resolution_px, scan.dwell_us, scan.frames, flyback)

    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        return move_duration_s(start, end, self._p.stage)

    def current_change_s(self) -> float:
        return self._p.column.current_switch_time_s

    def autofocus_s(self) -> float:
        return autofocus_duration_s(self._p.column, self._p.detector.line_flyback_s)

    def spectrum_samples(self, request: RasterRequest) -> int:
        return n_samples(self._p.tof)
