"""A volume as an ImageJ hyperstack TIFF, for Fiji: physical voxel sizes on every axis.

Why ImageJ's TIFF flavour: Fiji reads its calibration without any plugin or dialog: the X and
Y resolution tags (pixels per um), and in the ImageJ description ``spacing`` (z, um),
``unit=um``, the origin (``xorigin``... in pixels, so Fiji's coordinates are the face frame's)
and ``min``/``max`` (the display range, NaN-free). The description of the volume (what it is,
its value unit, the run) goes in the ``Info`` property (Image > Show Info). Planes are
streamed from ``volumes.h5`` one at a time: the default run's SE volume (2.5 GB as float32)
never sits in memory. Files over 4 GB are written as ImageJ does (contiguous, not BigTIFF),
which Fiji opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import tifffile

from fibsims.data.volumes import VolumeFile

Tick = Callable[[int, int], None]


def write_tiff(volumes: VolumeFile, name: str, out: Path, tick: Tick | None = None) -> None:
    """Write volume ``name`` (the even grid) of ``volumes`` to ``out``."""
    info = volumes.info(name)
    data = volumes.volume(name)
    planes, height, width = info.shape
    dz, dy, dx = info.voxel_size_um
    z0, y0, x0 = info.origin_um

    def stream() -> Iterator[np.ndarray]:
        for k in range(planes):
            yield np.asarray(data[k], dtype=np.float32)
            if tick is not None:
                tick(k + 1, planes)

    metadata: dict[str, object] = {
        "axes": "ZYX",
        "spacing": dz,
        "unit": "um",
        "xorigin": -x0 / dx,
        "yorigin": -y0 / dy,
        "zorigin": -z0 / dz,
        "Info": _info(volumes, name),
    }
    low, high = info.value_range
    if np.isfinite(low) and np.isfinite(high):
        metadata.update({"min": low, "max": high})
    tifffile.imwrite(
        out,
        stream(),
        shape=(planes, height, width),
        dtype=np.float32,
        imagej=True,
        resolution=(1.0 / dx, 1.0 / dy),
        metadata=metadata,
    )


def _info(volumes: VolumeFile, name: str) -> str:
    info = volumes.info(name)
    attrs = volumes.attrs
    return "\n".join(
        [
            f"volume: {name}",
            f"description: {info.description}",
            f"value unit: {info.unit} (NaN: no data)",
            f"voxel size (z, y, x) um: {', '.join(f'{v:.6g}' for v in info.voxel_size_um)}",
            f"run: recipe {attrs.get('recipe_name', '')}, seed {attrs.get('seed', '')}",
            "z: evenly resampled from the measured faces (see volumes.h5 measured/z_um)",
        ]
    )
