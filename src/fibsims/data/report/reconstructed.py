"""The reconstruction ``DIR/volumes.h5``, when there is one, for the 3D cut-away.

Why optional: the report must work from run.h5 alone (a reconstruction is made only when
someone runs ``fibsims reconstruct``), but when one exists its lithium volume is registered
with more care (image correlation, evenly spaced planes) and corrected for the detector's dead
time, so the cut-away draws it. Read through :class:`fibsims.data.volumes.VolumeFile`; a
reconstruction the report cannot read never stops the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fibsims.data.reconstruction import CORRECTED
from fibsims.data.report.stacks import Volume
from fibsims.data.volumes import FILE_NAME, VolumeError, VolumeFile

SPACING = "even"
MAX_BYTES = 1 << 30
"""A volume larger than this is read every n-th plane (the cut-away draws < 100 anyway)."""


def _read(path: Path, peak: str) -> tuple[Volume, str]:
    with VolumeFile(path) as volumes:
        name = peak + CORRECTED if peak + CORRECTED in volumes.names else peak
        info = volumes.info(name, SPACING)  # VolumeError when there is no such volume
        data = volumes.volume(name, SPACING)
        step = max(1, int(np.ceil(data.size * 4 / MAX_BYTES)))
        values = np.asarray(data[::step], dtype=np.float32)
        z = volumes.z_um(SPACING)[::step]
    _, rows, cols = info.shape
    (_, dy, dx), (_, y0, x0) = info.voxel_size_um, info.origin_um
    return Volume(values, x0 + np.arange(cols) * dx, y0 + np.arange(rows) * dy, z), name


@dataclass(frozen=True)
class Reconstructed:
    volume: Volume | None
    source: str
    """What the cut-away is drawn from, for its caption."""
    note: str | None = None
    """Why a volumes.h5 that is there was not used."""


def read_reconstructed(folder: Path, peak: str) -> Reconstructed:
    """The reconstruction's volume of ``peak``, or None and why not."""
    path = folder / FILE_NAME
    if not path.exists():
        return Reconstructed(None, "run.h5")
    try:
        volume, name = _read(path, peak)
        return Reconstructed(volume, f"{FILE_NAME} ({name}, {SPACING} planes)")
    except VolumeError as error:
        why = f"{FILE_NAME} is not used ({error})"
    except (OSError, KeyError, ValueError, TypeError) as error:
        why = f"{FILE_NAME} cannot be read ({error})"
    return Reconstructed(None, "run.h5", f"{why}: the 3D cut-away is drawn from run.h5.")
