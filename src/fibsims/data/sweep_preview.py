"""A sweep variant's preview: the 7Li+ map of its middle acquired slice, kept when the bulky
data is not (``fibsims sweep --keep summary``), so a comparison of the variants can still show
what each one saw.

``preview/li7.npy``: float32 (H, W), the 7Li+ counts of that slice's raster (the raster's
counts are its frames summed). ``preview/li7_truth.npy``: float32 (H, W), the true Li atomic
fraction on the same pixels, when the run recorded the truth (``--truth``). Plain ``.npy`` so
that anything (numpy, a notebook, the report) reads them without fibsims.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fibsims.data.atomic import write_atomic
from fibsims.data.run_reader import RunData

LI_PEAK = "7Li+"
PREVIEW_DIR = "preview"
LI_MAP = "li7.npy"
LI_TRUTH = "li7_truth.npy"


def _save(target: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a handle: np.save would add .npy to the name
            np.save(handle, np.ascontiguousarray(array, dtype=np.float32))

    write_atomic(target, write)


def write_preview(run_file: Path, folder: Path) -> list[Path]:
    """Write the preview of the run in ``run_file`` into ``folder/preview``; the files written
    (none when the run has no 7Li+ raster)."""
    with RunData(run_file) as run:
        raster = run.product("raster", "sims_raster")
        if raster not in run.products("raster"):
            return []
        labels = [peak.label for peak in run.peaks(raster)]
        if LI_PEAK not in labels:
            return []
        acquired = np.flatnonzero(run.acquired(raster))
        if acquired.size == 0:
            return []
        index = int(acquired[acquired.size // 2])
        li_map = np.asarray(run.counts(raster)[index, labels.index(LI_PEAK)], dtype=np.float32)
        truth = run.truth(raster).get("li_fraction")
        li_truth = None if truth is None else np.asarray(truth[index], dtype=np.float32)
    target = folder / PREVIEW_DIR
    target.mkdir(exist_ok=True)
    written = [target / LI_MAP]
    _save(written[0], li_map)
    if li_truth is not None and li_truth.shape == li_map.shape:
        written.append(target / LI_TRUTH)
        _save(written[1], li_truth)
    return written
