"""The twin's cost model: what each action will take, from the same functions the devices use.

Why the same functions: preflight refuses a run that would overrun ``limits.max_hours`` or the
disk, so its estimate must be the time the action then takes, not a second model that can
drift from it. Every figure here is what :mod:`fibsims_twin.column`, :mod:`~fibsims_twin.stage`,
:mod:`~fibsims_twin.detector` and :mod:`~fibsims_twin.tof` sleep for. A pattern costs V / (Yv I)
whatever it does (a cut, a polish, a feature milled ahead of the face, rotated or not); setting
the SE detector's contrast or brightness costs nothing, so it has no entry.
"""

from __future__ import annotations

from fibsims.instrument import CostModel, MillPattern, RasterRequest, ScanRequest, StagePosition
from fibsims_twin.milling import sputter_depth_um
from fibsims_twin.parameters import SECOND_PER_MICROSECOND, TwinParameters
from fibsims_twin.sputtering import SputterModel
from fibsims_twin.stage import move_duration_s
from fibsims_twin.state import TwinState
from fibsims_twin.timing import (
    autofocus_duration_s,
    mill_duration_s,
    n_samples,
    pattern_rate_um3_per_nc,
    scan_duration_s,
    scan_rate_um3_per_nc,
)


class TwinCosts(CostModel):
    def __init__(self, parameters: TwinParameters, state: TwinState) -> None:
        self._p = parameters
        self._state = state
        self._sputter = SputterModel(parameters.column, parameters.materials)

    def mill_s(
        self, pattern: MillPattern, current_na: float, at: StagePosition | None = None
    ) -> float:
        rate = pattern_rate_um3_per_nc(self._sputter, at or self._state.stage)
        return mill_duration_s(pattern, current_na, rate)

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

    def sputter_depth_um(
        self, request: ScanRequest, current_na: float, at: StagePosition | None = None
    ) -> float | None:
        """The depth a scan of the NMC face erodes: its charge over the field's area times the
        volume per dose at the scan's incidence (the rule the twin's scans sputter by). The
        flyback is blanked, so only the dwell delivers dose."""
        width, height = request.resolution_px
        dwell_s = width * height * request.dwell_us * SECOND_PER_MICROSECOND * request.frames
        area_um2 = request.field_width_um * request.field_height_um
        volume_per_dose = scan_rate_um3_per_nc(self._sputter, at or self._state.stage)
        return sputter_depth_um(current_na * dwell_s, area_um2, volume_per_dose)
