"""``volumes.h5``: the 3D volumes reconstructed from a run, and the one API that reads them.

Why HDF5 and not Zarr for this file: the run is HDF5 already (h5py, no new dependency), one
file moves, archives and checksums as one thing (a Zarr store is a folder of thousands of
chunk files, slow on network shares and Windows), and every tool scientists analyse in reads it
(Fiji's HDF5 plugin, MATLAB, Avizo, h5py, h5web). Zarr's strength, chunked reads over the
network for a viewer, is what the OME-Zarr export is for (``fibsims export --format
ome-zarr``, for napari). Compression is deflate (gzip level 1, byte shuffle), which every HDF5
library has built in: a third of the raw float32 size for the measured SE volume (whole
counts), two thirds for the interpolated even one.

Layout (every volume float32, NaN where there is no data: a missing slice, outside a field):

```
/ attrs                 format "fibsims-volumes", format_version, the run's recipe, seed, status,
                        notes (what the run did not record and was assumed)
/measured/z_um          (slices,) where each face stood (NaN: unknown)
/measured/missing       (slices,) uint8, 1 where the run has no data for the slice
/measured/<volume>      (slices, H, W) on the measured faces
/even/z_um              (planes,) evenly spaced (see fibsims.data.zgrid)
/even/<volume>          (planes, H, W) resampled; voxel_size_um is physical on all axes
/grids/<grid>/x_um, y_um pixel centres (um, face frame) of the ``se`` and ``sims`` grids
/registration/...       per slice: the geometric mapping, the correlation's refinement, the
                        placement on the common grid (see fibsims.data.reconstruction)
/dead_time/...          extraction rate (and where it came from), extractions per pixel,
                        window fraction, capped pixels per peak
```

Each volume's attributes: ``grid`` (``se`` or ``sims``), ``unit``, ``description``,
``voxel_size_um`` (z, y, x; on ``measured`` z is the mean pitch, the faces are in ``z_um``),
``origin_um`` (z, y, x of the first voxel's centre) and ``value_range`` (finite min, max).
Volumes: ``se`` (SE counts, full resolution), ``se_binned`` (SE on the SIMS grid), one per
SIMS peak (``7Li+``: counts), ``<peak>_corrected`` (dead-time corrected) and ``li_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np

from fibsims.data.registration import Grid
from fibsims.data.zgrid import EvenZ

FILE_NAME = "volumes.h5"
FORMAT = "fibsims-volumes"
FORMAT_VERSION = 1
Spacing = Literal["even", "measured"]
SPACINGS: tuple[Spacing, ...] = ("even", "measured")
COMPRESSION: dict[str, Any] = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


class VolumeError(Exception):
    """A volumes file or a volume in it cannot be used as asked; the message says the fix."""


@dataclass(frozen=True)
class VolumeInfo:
    """What an exporter needs to know of a volume besides its voxels."""

    name: str
    spacing: Spacing
    shape: tuple[int, int, int]
    voxel_size_um: tuple[float, float, float]
    """(z, y, x)."""
    origin_um: tuple[float, float, float]
    """(z, y, x) of the first voxel's centre."""
    unit: str
    description: str
    value_range: tuple[float, float]
    """Finite min and max (NaN, NaN for a volume without data)."""


class VolumeWriter:
    """Creates a volumes file and its datasets; planes are written one at a time."""

    def __init__(
        self,
        path: Path,
        z_um: np.ndarray,
        missing: np.ndarray,
        even: EvenZ,
        grids: dict[str, Grid],
        attrs: dict[str, Any],
    ) -> None:
        self.file = h5py.File(path, "w")
        self.even = even
        self.grids = grids
        self._ranges: dict[str, list[float]] = {}
        self._names: list[str] = []
        self.file.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, **attrs})
        measured = self.file.create_group("measured")
        measured.create_dataset("z_um", data=np.asarray(z_um, dtype=np.float64))
        measured.create_dataset("missing", data=np.asarray(missing, dtype=np.uint8))
        self.file.create_group("even").create_dataset("z_um", data=even.z_um)
        for name, grid in grids.items():
            group = self.file.create_group(f"grids/{name}")
            group.create_dataset("x_um", data=grid.x_um())
            group.create_dataset("y_um", data=grid.y_um())
            group.attrs["pixel_size_um"] = grid.pixel_size_um
        known = np.asarray(z_um, dtype=np.float64)
        known = np.sort(known[np.isfinite(known)])
        self.measured_dz_um = float(np.diff(known).mean()) if known.size > 1 else even.dz_um

    def __enter__(self) -> VolumeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.file.id.valid:
            for key, (low, high) in self._ranges.items():
                bounds = [low, high] if low <= high else [np.nan, np.nan]
                self.file[key].attrs["value_range"] = np.array(bounds, dtype=np.float64)
            self.file.attrs["volumes"] = self._names
            self.file.close()

    def add(self, name: str, grid: str, unit: str, description: str) -> None:
        """Create volume ``name`` (measured and even) on one of the grids."""
        g = self.grids[grid]
        self._names.append(name)
        z_um = self.file["measured/z_um"][()]
        for spacing, planes, z0, dz in (
            ("measured", len(z_um), _first(z_um), self.measured_dz_um),
            ("even", self.even.count, self.even.z0_um, self.even.dz_um),
        ):
            data = self.file[spacing].create_dataset(
                name,
                shape=(planes, g.height_px, g.width_px),
                dtype=np.float32,
                chunks=(1, g.height_px, g.width_px),
                fillvalue=np.float32(np.nan),
                **COMPRESSION,
            )
            data.attrs.update(
                {
                    "grid": grid,
                    "unit": unit,
                    "description": description,
                    "voxel_size_um": np.array([dz, g.pixel_size_um, g.pixel_size_um]),
                    "origin_um": np.array([z0, g.y_um()[0], g.x_um()[0]]),
                    "value_range": np.array([np.nan, np.nan]),
                }
            )
            self._ranges[data.name] = [np.inf, -np.inf]

    def write(self, spacing: Spacing, name: str, index: int, plane: np.ndarray) -> None:
        """One plane of a volume; planes never written read as NaN."""
        data = self.file[f"{spacing}/{name}"]
        data[index] = plane
        finite = plane[np.isfinite(plane)]
        if finite.size:
            bounds = self._ranges[data.name]
            bounds[0] = min(bounds[0], float(finite.min()))
            bounds[1] = max(bounds[1], float(finite.max()))

    def record(self, group: str, datasets: dict[str, Any], attrs: dict[str, Any]) -> None:
        """A group of records beside the volumes (registration, dead time)."""
        target = self.file.require_group(group)
        for key, value in datasets.items():
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                target.create_dataset(key, data=list(value), dtype=h5py.string_dtype())
            else:
                target.create_dataset(key, data=value)
        target.attrs.update(attrs)


def _first(z_um: np.ndarray) -> float:
    """The first plane's z, or the first known one's when the first is unknown."""
    known = z_um[np.isfinite(z_um)]
    return float(known[0]) if known.size else float("nan")


class VolumeFile:
    """A volumes file opened for reading (a context manager); datasets come back lazily."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.file = h5py.File(self.path, "r")
        except FileNotFoundError:
            raise VolumeError(f"{self.path} does not exist") from None
        except OSError as error:
            raise VolumeError(f"{self.path} is not a readable HDF5 file ({error})") from None
        if self.file.attrs.get("format") != FORMAT:
            self.file.close()
            raise VolumeError(f"{self.path} is not a fibsims volumes file")
        version = int(self.file.attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            self.file.close()
            raise VolumeError(
                f"{self.path} has format version {version}; this fibsims reads up to "
                f"{FORMAT_VERSION}: upgrade fibsims, or reconstruct the run again"
            )

    def __enter__(self) -> VolumeFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self.file.attrs.items())

    @property
    def names(self) -> list[str]:
        """The volumes, in the order they were written."""
        group = self.file["measured"]
        names = [n for n, d in group.items() if isinstance(d, h5py.Dataset) and d.ndim == 3]
        order = [_text(n) for n in self.file.attrs.get("volumes", names)]
        return [n for n in order if n in names]

    def z_um(self, spacing: Spacing = "even") -> np.ndarray:
        return np.asarray(self.file[f"{spacing}/z_um"][()], dtype=np.float64)

    def volume(self, name: str, spacing: Spacing = "even") -> h5py.Dataset:
        """(planes, H, W) float32, read lazily (``volume[k]`` is one plane)."""
        if spacing not in SPACINGS:
            raise VolumeError(f"unknown spacing {spacing!r}; use one of {', '.join(SPACINGS)}")
        if name not in self.names:
            raise VolumeError(
                f"{self.path} has no volume {name!r}; choose one of: {', '.join(self.names)}"
            )
        return self.file[f"{spacing}/{name}"]

    def info(self, name: str, spacing: Spacing = "even") -> VolumeInfo:
        data = self.volume(name, spacing)
        a = data.attrs
        return VolumeInfo(
            name=name,
            spacing=spacing,
            shape=tuple(int(n) for n in data.shape),  # type: ignore[arg-type]
            voxel_size_um=tuple(float(v) for v in a["voxel_size_um"]),  # type: ignore[arg-type]
            origin_um=tuple(float(v) for v in a["origin_um"]),  # type: ignore[arg-type]
            unit=str(a["unit"]),
            description=str(a["description"]),
            value_range=tuple(float(v) for v in a["value_range"]),  # type: ignore[arg-type]
        )

    def group(self, name: str) -> dict[str, np.ndarray]:
        """A record group (``registration``, ``dead_time``) as arrays."""
        if name not in self.file:
            return {}
        found = {}
        for key, data in self.file[name].items():
            if isinstance(data, h5py.Dataset):
                value = data[()]
                is_text = h5py.check_string_dtype(data.dtype) is not None
                found[key] = np.array([_text(v) for v in value]) if is_text else value
        return found

    def group_attrs(self, name: str) -> dict[str, Any]:
        if name not in self.file:
            return {}
        return {k: _text(v) for k, v in self.file[name].attrs.items()}


def _text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value
