"""Reading a finished run: one API over ``run.h5`` for every product made from it.

Why an API rather than paths: the SIMS file, the reconstruction, the exports and the report
all read the same run, and the run file's layout is allowed to change (it grows NeXus
structure, compression, new datasets); they depend on this module, not on where a dataset
sits. Arrays come back lazily (h5py datasets) so a 400-slice volume is read slice by slice.

Geometry (the face frame: x across the face, y down it, z along the slicing axis, in um): each
product's field is ``field_width_um`` x ``field_height_um`` centred on ``field_center_um``
(per slice), pixels of ``pixel_size_nm``; pixel (row r, column c) of slice i sits at
``x = cx + (c + 0.5 - W/2) p``, ``y = cy + (r + 0.5 - H/2) p``, ``z = face_z_um[i]``. The SE
image and the SIMS raster of a slice share the field centre (the same beam), with different
extents and pixels, which is what registering one on the other needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin  # noqa: F401  (registers the Blosc filter run.h5 is compressed with)
import numpy as np

from fibsims.data.nexus import pixel_axis
from fibsims.data.run_file import FORMAT, FORMAT_VERSION, entry_of
from fibsims.instrument.types import Peak


@dataclass(frozen=True)
class Field:
    """Where a product's pixels lie in the face frame (see the module docstring)."""

    pixel_size_nm: float
    width_px: int
    height_px: int
    center_um: np.ndarray
    """(slices, 2): the field centre (x, y) of each slice in the face frame."""

    @property
    def width_um(self) -> float:
        return self.width_px * self.pixel_size_nm / 1000.0

    @property
    def height_um(self) -> float:
        return self.height_px * self.pixel_size_nm / 1000.0

    def x_um(self, index: int = 0) -> np.ndarray:
        """Pixel-centre x of each column of slice ``index``'s field."""
        return pixel_axis(self.width_px, self.pixel_size_nm, self.center_um[index, 0])

    def y_um(self, index: int = 0) -> np.ndarray:
        """Pixel-centre y of each row of slice ``index``'s field."""
        return pixel_axis(self.height_px, self.pixel_size_nm, self.center_um[index, 1])


class RunDataError(ValueError):
    """The file is not a run file this fibsims can read; the message says why and what to do."""


class RunData:
    """A run file opened for reading; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.file = h5py.File(self.path, "r")
        except FileNotFoundError:
            raise RunDataError(f"{self.path} does not exist") from None
        except OSError as error:
            raise RunDataError(
                f"{self.path} cannot be read as HDF5 ({error}): it is torn or damaged; while "
                "the run's slices/ folder exists `fibsims resume` writes it again, otherwise "
                "restore it from a copy"
            ) from None
        if _text(self.file.attrs.get("format")) != FORMAT:
            self.file.close()
            raise RunDataError(f"{self.path} is not a fibsims run file (no format {FORMAT!r})")
        version = int(self.file.attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            self.file.close()
            raise RunDataError(
                f"{self.path} has run-file format {version}; this fibsims reads up to "
                f"{FORMAT_VERSION}: upgrade fibsims"
            )
        self._root = entry_of(self.file)

    def __enter__(self) -> RunData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    # -- the run -------------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """Recipe name and text, seed, instrument, status, slice thickness, face size..."""
        return {k: _text(v) for k, v in self.file.attrs.items()}

    @property
    def slices(self) -> int:
        return int(self.table["index"].shape[0])

    @property
    def table(self) -> h5py.Dataset:
        """One row per committed slice (index, missing, face_z_um, times, stage...)."""
        return self._root["slices"]

    @property
    def face_z_um(self) -> np.ndarray:
        """Where each slice's face stood: measured when the run followed a fiducial."""
        return np.asarray(self.table["face_z_um"], dtype=np.float64)

    @property
    def missing(self) -> np.ndarray:
        return np.asarray(self.table["missing"], dtype=bool)

    @property
    def contexts(self) -> list[dict[str, Any] | None]:
        """The run context each slice left (drift, beam shift, cut offset, fiducial...)."""
        return json.loads(self.table.attrs.get("context_json", "[]")) or [None] * self.slices

    @property
    def steps(self) -> h5py.Dataset:
        return self._root["steps"]

    @property
    def step_metadata(self) -> list[Any]:
        return json.loads(self.steps.attrs.get("metadata_json", "[]"))

    def products(self, kind: str) -> list[str]:
        """Names of the products of a kind: ``image`` (SE) or ``raster`` (SIMS)."""
        key = "data" if kind == "image" else "counts"
        return sorted(n for n, g in self._root.items() if isinstance(g, h5py.Group) and key in g)

    def product(self, kind: str, usual: str) -> str:
        """The product of a kind (``image``, ``raster``) to read when none is asked for: the
        one called ``usual`` (``se_image``, ``sims_raster``), else, in a recipe that named its
        steps, the run's first of that kind (``usual`` when it has none, so lookups say so)."""
        available = self.products(kind)
        return usual if usual in available or not available else available[0]

    # -- products ------------------------------------------------------------------------
    def image(self, name: str = "se_image") -> h5py.Dataset:
        """(slices, H, W) SE counts (uint16)."""
        return self._root[f"{name}/data"]

    def counts(self, name: str = "sims_raster") -> h5py.Dataset:
        """(slices, peaks, H, W) SIMS counts per peak (uint32)."""
        return self._root[f"{name}/counts"]

    def peaks(self, name: str = "sims_raster") -> list[Peak]:
        table = self._root[f"{name}/peak_table"][()]
        return [
            Peak(
                _text(row["label"]),
                float(row["mass"]),
                float(row["lower integration limit"]),
                float(row["upper integration limit"]),
            )
            for row in table
        ]

    def spectrum(self, name: str = "sims_raster") -> tuple[np.ndarray, h5py.Dataset]:
        """The mass axis (samples,) in u and the sum spectrum (slices, samples) in counts."""
        group = self._root[name]
        return group["mass_axis"][()], group["sum_spectrum"]

    def saturated_lines(self, name: str = "sims_raster") -> h5py.Dataset:
        """(slices, H) uint8: 1 where a raster line hit the detector's count ceiling."""
        return self._root[f"{name}/saturated_lines"]

    def product_attrs(self, name: str) -> dict[str, Any]:
        """Dwell, frames, pixel size, and for rasters the TofDAQ mass calibration."""
        return {k: _text(v) for k, v in self._root[name].attrs.items()}

    def acquired(self, name: str) -> np.ndarray:
        """(slices,) bool: True where the slice has product ``name``. A step on an ``every:``
        schedule makes its product on some slices only; elsewhere its rows are fill values
        (0, NaN), not data. Run files before schedules had every product on every slice."""
        group = self._root[name]
        data = group["data"] if "data" in group else group["counts"]
        present = np.ones(data.shape[0], dtype=bool)
        if "slices" in self._root:  # (a bare file of products, as some tests make, has none)
            present &= ~self.missing
        if "acquired" in group:
            present &= np.asarray(group["acquired"][()], dtype=bool)
        return present

    def step_position(self, name: str) -> int | None:
        """The position (in the step table) of the step that made product ``name``; None in
        run files from before step names, where the name says it (``sims_raster_2``)."""
        position = self._root[name].attrs.get("step_position")
        return None if position is None else int(position)

    def per_slice(self, name: str, key: str) -> np.ndarray:
        """A per-slice value of a product (``current_na``, ``duration_s``...)."""
        return np.asarray(self._root[f"{name}/{key}"][()], dtype=np.float64).reshape(self.slices)

    def field(self, name: str) -> Field:
        group = self._root[name]
        data = group["data"] if "data" in group else group["counts"]
        height, width = data.shape[-2:]
        if "field_center_um" in group:
            center = np.asarray(group["field_center_um"][()], dtype=np.float64)
        else:  # run files before geometry was recorded: the field at the stage's centre
            center = np.zeros((self.slices, 2))
        return Field(float(group.attrs["pixel_size_nm"]), int(width), int(height), center)

    def truth(self, name: str) -> dict[str, h5py.Dataset]:
        """Ground truth of a product (twin runs): maps with ``--truth``, and ``geometry``."""
        group = self._root.get(f"truth/{name}")
        return {} if group is None else dict(group.items())


def _text(value: Any) -> Any:
    return value.decode("utf-8") if isinstance(value, bytes) else value
