"""Quality metrics of a run scored against ground truth (twin runs with ``--truth``).

``li_map_pearson_r``: per slice, the Pearson correlation between the 7Li+ count map and the
true Li atomic fraction on the same SIMS pixels (averaged over the depth the raster sputtered);
reported as the mean over slices, with the worst slice. It says how faithfully the instrument
settings map lithium, which is what a what-if run on the twin is for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

LI_PEAK = "7Li+"


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    if a.std() == 0 or b.std() == 0:
        return None  # a uniform map has no correlation to speak of
    return float(np.corrcoef(a, b)[0, 1])


def li_map_quality(run_file: Path, raster: str = "sims_raster") -> dict[str, Any] | None:
    """Scores of the 7Li+ map against truth, or None when the run recorded no truth for it."""
    with h5py.File(run_file, "r") as f:
        truth = f.get(f"truth/{raster}/li_fraction")
        if truth is None or raster not in f:
            return None
        labels = [row.decode() for row in f[f"{raster}/peak_table"]["label"]]
        if LI_PEAK not in labels:
            return None
        counts = f[f"{raster}/counts"]
        peak = labels.index(LI_PEAK)
        scores = [_pearson(counts[i, peak], truth[i]) for i in range(counts.shape[0])]
    valid = [s for s in scores if s is not None]
    if not valid:
        return None
    return {
        "li_map_pearson_r": round(float(np.mean(valid)), 4),
        "li_map_pearson_r_min": round(float(np.min(valid)), 4),
        "slices_scored": len(valid),
    }
