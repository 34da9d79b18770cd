"""What a reconstruction records of each slice's registration and placement: the ``registration``
group of ``volumes.h5``.

Why kept per slice: a reader of the volumes must be able to see which slices the refinement
moved, by how much and why not where it did not (NaN for slices without data), and where each
slice's planes were placed on the common grids, to undo or audit any of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RegistrationRecords:
    """Per-slice registration records, NaN for slices without data."""

    def __init__(self, slices: int) -> None:
        nan2 = np.full((slices, 2), np.nan)
        self.pixel_map = np.full((slices, 3), np.nan)
        self.found = nan2.copy()
        self.correlation = np.full(slices, np.nan)
        self.applied = np.zeros(slices, dtype=np.uint8)
        self.reason = [""] * slices
        self.sims_placement = np.zeros((slices, 2), dtype=np.int64)
        self.sims_residual = nan2.copy()
        self.se_placement = np.zeros((slices, 2), dtype=np.int64)
        self.se_residual = nan2.copy()

    def datasets(self) -> dict[str, Any]:
        return {
            "pixel_map": self.pixel_map,
            "refinement_found_sims_px": self.found,
            "correlation": self.correlation,
            "refinement_applied": self.applied,
            "refinement_reason": list(self.reason),
            "sims_placement_px": self.sims_placement,
            "sims_residual_px": self.sims_residual,
            "se_placement_px": self.se_placement,
            "se_residual_px": self.se_residual,
        }


def registration_attributes(max_shift_sims_px: float, min_correlation: float) -> dict[str, Any]:
    """The group's attributes: how the pixel map and the refinement were found, and their
    conventions."""
    return {
        "method": "geometry of the recorded fields, refined by cross-correlating the "
        "total-ion map with the SE image seen through a level-to-ions table learnt "
        "from the slice, binned onto the SIMS pixels",
        "max_shift_sims_px": max_shift_sims_px,
        "min_correlation": min_correlation,
        "pixel_map_columns": "scale (SE px per SIMS px), offset_row, offset_col: "
        "se = offset + scale * sims (pixel centres on integers)",
        "refinement_convention": "SIMS pixel p shows the SE content at geometric "
        "position p + refinement (rows, cols)",
    }
