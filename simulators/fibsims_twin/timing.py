"""How long the twin's actions take, and the rates and counts that set it: pure functions.

Why a module: the devices sleep for these durations (:mod:`fibsims_twin.column`,
:mod:`~fibsims_twin.scan`, :mod:`~fibsims_twin.spectrum`) and the cost model quotes them
(:mod:`fibsims_twin.costs`), so both take them from here. Neither this module nor anything else
the cost model imports loads numpy at import: that would be about a quarter of
``fibsims estimate``'s start-up (issue 13; a test holds the estimate's imports to it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fibsims.instrument import MillPattern, StagePosition
from fibsims_twin.geometry import mill_incidence_deg, scan_incidence_deg
from fibsims_twin.materials import Material
from fibsims_twin.parameters import SECOND_PER_MICROSECOND, ColumnParameters, TofParameters

if TYPE_CHECKING:
    from fibsims_twin.sputtering import SputterModel


def scan_duration_s(
    resolution_px: tuple[int, int], dwell_us: float, frames: int, line_flyback_s: float
) -> float:
    """Dwell on every pixel of every frame, plus one flyback per line per frame."""
    width, height = resolution_px
    dwell_s = width * height * dwell_us * SECOND_PER_MICROSECOND
    return frames * (dwell_s + height * line_flyback_s)


def mill_duration_s(pattern: MillPattern, current_na: float, yv_um3_per_nc: float) -> float:
    """A pattern takes V / (Yv I): the beam dwells over its whole volume (docs/physics.md); ``yv``
    is the volume per dose at the pattern's incidence (:func:`pattern_rate_um3_per_nc`)."""
    return pattern.volume_um3 / (yv_um3_per_nc * current_na)


def pattern_rate_um3_per_nc(sputter: SputterModel, stage: StagePosition) -> float:
    """The rate the column times patterns with: NMC at the mill incidence of ``stage``."""
    return sputter.volume_per_dose_um3_per_nc(Material.NMC811, mill_incidence_deg(stage))


def scan_rate_um3_per_nc(sputter: SputterModel, stage: StagePosition) -> float:
    """The rate a scan erodes the (NMC) face with at the scan incidence of ``stage``."""
    return sputter.volume_per_dose_um3_per_nc(Material.NMC811, scan_incidence_deg(stage))


def autofocus_duration_s(p: ColumnParameters, line_flyback_s: float) -> float:
    """The focus sweep: ``autofocus_frames`` small frames, each followed by a settle."""
    frame_s = scan_duration_s(p.autofocus_resolution_px, p.autofocus_dwell_us, 1, line_flyback_s)
    return p.autofocus_frames * (frame_s + p.autofocus_settle_s)


def n_samples(p: TofParameters) -> int:
    """Samples of a TOF spectrum: the TofDAQ axis i = p1 sqrt(m) + p2 up to ``max_mass_u``."""
    return math.ceil(p.calibration_p1 * math.sqrt(p.max_mass_u) + p.calibration_p2) + 1
