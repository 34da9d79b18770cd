"""Each variant's preview: its middle slice's 7Li+ map and, on twin runs, the true Li there.

Why the sweep's previews and not run.h5: a sweep run with ``--keep summary`` removes the bulky
data; the small ``preview/`` arrays stay. A missing or unreadable preview is a note, never a
failed report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fibsims.data.sweep_preview import LI_MAP, LI_TRUTH, PREVIEW_DIR


@dataclass
class Preview:
    li: np.ndarray | None
    truth: np.ndarray | None
    note: str = ""


def _load(path: Path) -> tuple[np.ndarray | None, str]:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None, ""
    except (OSError, ValueError) as error:
        return None, f"{path} cannot be read ({error})"
    if array.ndim != 2 or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        return None, f"{path} is not a 2-D map of numbers (shape {array.shape}, {array.dtype})"
    return np.asarray(array, dtype=np.float64), ""


def read_preview(sweep_folder: Path, run_dir: str) -> Preview:
    folder = sweep_folder / run_dir
    if not folder.is_dir():
        return Preview(None, None, f"{folder} is missing: no 7Li+ map to show")
    li, li_note = _load(folder / PREVIEW_DIR / LI_MAP)
    truth, truth_note = _load(folder / PREVIEW_DIR / LI_TRUTH)
    if truth is not None and li is not None and truth.shape != li.shape:
        truth, truth_note = None, f"{folder / PREVIEW_DIR / LI_TRUTH} is not on the map's pixels"
    note = li_note or ("" if li is not None else f"{folder / PREVIEW_DIR / LI_MAP} is missing")
    return Preview(li, truth, "; ".join(n for n in (note, truth_note) if n))
