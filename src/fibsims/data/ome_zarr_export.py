"""A volume as an OME-Zarr image (OME-NGFF 0.4), for napari and the web viewers.

Why NGFF 0.4 on Zarr format 2: it is the version every OME-Zarr reader in use opens
(napari-ome-zarr, ome-zarr-py, vizarr, Fiji's MoBIE and n5-viewer, neuroglancer); 0.5 (Zarr
format 3) is still being adopted. Written with ``zarr`` alone, the metadata by hand after the
specification: one ``multiscales`` entry with ``axes`` z, y, x (type space, unit
micrometer) and, per resolution level, ``coordinateTransformations`` [scale, translation],
the scale being the voxel size in um and the translation the first voxel's centre in the face
frame, so napari shows physical sizes and places volumes of one run on one another.

Levels: the full resolution, then 2 x 2 means in y and x (z is kept: it is the coarse axis
already) until the plane fits in 512 pixels, so napari opens the default run's full-resolution
SE volume without reading 2.5 GB. Arrays are chunked one plane deep and at most 1024 pixels
wide, ``/`` as the dimension separator (required by 0.4), NaN as the fill value: no data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from fibsims.data.volumes import VolumeFile

NGFF_VERSION = "0.4"
MAX_LEVEL_PX = 512
MAX_CHUNK_PX = 1024
Tick = Callable[[int, int], None]


def level_factors(height: int, width: int) -> list[int]:
    """Downsampling factors in y and x: 1, 2, 4... until the plane fits ``MAX_LEVEL_PX``."""
    factors = [1]
    while max(height, width) / factors[-1] > MAX_LEVEL_PX:
        factors.append(factors[-1] * 2)
    return factors


def downsample(plane: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor`` x ``factor`` blocks ignoring NaN (NaN where a block has no data);
    a partial block at the edge averages what it has."""
    if factor == 1:
        return plane
    h, w = plane.shape
    hp, wp = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.full((hp, wp), np.nan, dtype=np.float64)
    padded[:h, :w] = plane
    blocks = padded.reshape(hp // factor, factor, wp // factor, factor)
    known = np.isfinite(blocks)
    total = np.where(known, blocks, 0.0).sum(axis=(1, 3))
    count = known.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


def multiscales(
    name: str,
    factors: list[int],
    voxel_size_um: tuple[float, float, float],
    origin_um: tuple[float, float, float],
) -> list[dict[str, Any]]:
    """The ``multiscales`` attribute of the image group."""
    dz, dy, dx = voxel_size_um
    z0, y0, x0 = origin_um
    datasets = []
    for level, f in enumerate(factors):
        # a level-f voxel averages f x f voxels: its centre lies (f - 1)/2 voxels further in
        translation = [z0, y0 + (f - 1) / 2 * dy, x0 + (f - 1) / 2 * dx]
        datasets.append(
            {
                "path": str(level),
                "coordinateTransformations": [
                    {"type": "scale", "scale": [dz, dy * f, dx * f]},
                    {"type": "translation", "translation": translation},
                ],
            }
        )
    return [
        {
            "version": NGFF_VERSION,
            "name": name,
            "axes": [
                {"name": axis, "type": "space", "unit": "micrometer"} for axis in ("z", "y", "x")
            ],
            "datasets": datasets,
            "type": "mean",
            "metadata": {"description": "2 x 2 mean in y and x per level; z not downsampled"},
        }
    ]


def write_ome_zarr(volumes: VolumeFile, name: str, out: Path, tick: Tick | None = None) -> None:
    """Write volume ``name`` (the even grid) of ``volumes`` as an OME-Zarr image in the new
    folder ``out``."""
    info = volumes.info(name)
    data = volumes.volume(name)
    planes, height, width = info.shape
    factors = level_factors(height, width)
    root = zarr.open_group(str(out), mode="w", zarr_format=2)
    arrays = []
    for level, f in enumerate(factors):
        h, w = -(-height // f), -(-width // f)
        arrays.append(
            root.create_array(
                str(level),
                shape=(planes, h, w),
                chunks=(1, min(h, MAX_CHUNK_PX), min(w, MAX_CHUNK_PX)),
                dtype="float32",
                fill_value=float("nan"),
                chunk_key_encoding={"name": "v2", "separator": "/"},
            )
        )
    for k in range(planes):
        plane = np.asarray(data[k], dtype=np.float32)
        if np.isfinite(plane).any():  # an all-NaN plane is the fill value: nothing to store
            for array, f in zip(arrays, factors, strict=True):
                array[k] = downsample(plane, f)
        if tick is not None:
            tick(k + 1, planes)
    attrs = volumes.attrs
    root.attrs.update(
        {
            "multiscales": multiscales(name, factors, info.voxel_size_um, info.origin_um),
            "fibsims": {
                "volume": name,
                "description": info.description,
                "unit": info.unit,
                "value_range": [v if np.isfinite(v) else None for v in info.value_range],
                "recipe_name": str(attrs.get("recipe_name", "")),
                "seed": int(attrs.get("seed", -1)),
                "z": "evenly resampled from the measured faces (volumes.h5 measured/z_um)",
            },
        }
    )
