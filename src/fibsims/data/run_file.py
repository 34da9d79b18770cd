"""The run file ``run.h5``: every slice of a run stacked into one HDF5 file a user can open.

Layout (format ``fibsims-run`` version 1)::

    /                      attrs: format, format_version, fibsims_version, recipe (YAML text),
                           recipe_name, seed, instrument, status, slices_planned,
                           slices_completed, slice_thickness_nm, face_width_um, face_height_um
    /slices                table, one row per slice: index, face_z_um, started_s, finished_s,
                           duration_s, stage_{x,y,z}_um, stage_{tilt,rotation}_deg
    /steps                 table, one row per executed step (slice, position, kind, started_s,
                           finished_s, duration_s, current_na); attr metadata_json per slice
    /se_image/data         (slices, H, W) uint16 SE counts; per-slice current_na, duration_s,
                           saturated_fraction; attrs pixel_size_nm, dwell_us, frames
    /sims_raster/counts    (slices, peaks, H, W) uint32; peak_table (TofDAQ PeakTable fields);
                           sum_spectrum (slices, samples); mass_axis (samples);
                           saturated_lines (slices, H); attrs: TofDAQ mass calibration
    /truth/<product>/<map> (slices, H, W) ground truth on the product's own grid (``--truth``
                           on a simulated instrument): labels, li_fraction, <element>_fraction

Times are instrument-clock seconds from the start of the run. It is written once, from the
per-slice files, atomically; a run that stops early still gets one with what was committed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fibsims.data.atomic import write_atomic

FORMAT = "fibsims-run"
FORMAT_VERSION = 1

SLICE_DTYPE = np.dtype(
    [
        ("index", "<i4"),
        ("face_z_um", "<f8"),
        ("started_s", "<f8"),
        ("finished_s", "<f8"),
        ("duration_s", "<f8"),
        ("stage_x_um", "<f8"),
        ("stage_y_um", "<f8"),
        ("stage_z_um", "<f8"),
        ("stage_tilt_deg", "<f8"),
        ("stage_rotation_deg", "<f8"),
    ]
)
PER_SLICE_IMAGE_ATTRS = ("current_na", "duration_s", "saturated_fraction")
PER_SLICE_RASTER_ATTRS = ("current_na", "duration_s")


def _slice_row(source: h5py.File) -> np.ndarray:
    row = np.zeros((), dtype=SLICE_DTYPE)
    row["index"] = source.attrs["slice"]
    row["duration_s"] = source.attrs["finished_s"] - source.attrs["started_s"]
    for name in SLICE_DTYPE.names:
        if name in source.attrs:
            row[name] = source.attrs[name]
    return row


class _Stacker:
    """Creates each stacked dataset on first sight and fills row ``i`` for slice ``i``."""

    def __init__(self, target: h5py.File, n: int) -> None:
        self.target = target
        self.n = n

    def put(self, name: str, i: int, value: np.ndarray) -> None:
        if name not in self.target:
            self.target.create_dataset(
                name,
                shape=(self.n, *value.shape),
                dtype=value.dtype,
                chunks=(1, *value.shape) if value.ndim else None,
            )
        self.target[name][i] = value


def _copy_products(source: h5py.File, target: h5py.File, stack: _Stacker, i: int) -> None:
    for name, ds in source.get("images", {}).items():
        stack.put(f"{name}/data", i, ds[()])
        for key in PER_SLICE_IMAGE_ATTRS:
            stack.put(f"{name}/{key}", i, np.asarray(ds.attrs[key], dtype="f8"))
        if i == 0:
            target[name].attrs.update(
                {k: v for k, v in ds.attrs.items() if k not in PER_SLICE_IMAGE_ATTRS}
            )
    for name, group in source.get("rasters", {}).items():
        stack.put(f"{name}/counts", i, group["counts"][()])
        stack.put(f"{name}/sum_spectrum", i, group["sum_spectrum"][()])
        stack.put(f"{name}/saturated_lines", i, group["saturated_lines"][()])
        for key in PER_SLICE_RASTER_ATTRS:
            stack.put(f"{name}/{key}", i, np.asarray(group.attrs[key], dtype="f8"))
        if i == 0:
            target[name].create_dataset("peak_table", data=group["peak_table"][()])
            target[name].create_dataset("mass_axis", data=group["mass_axis"][()])
            target[name].attrs.update(
                {k: v for k, v in group.attrs.items() if k not in PER_SLICE_RASTER_ATTRS}
            )


def _copy_truth(source: h5py.File, stack: _Stacker, i: int) -> None:
    for name, group in source.get("truth", {}).items():
        for key, ds in group.items():
            stack.put(f"truth/{name}/{key}", i, ds[()])


def _write(path: Path, slice_files: Sequence[Path], attrs: Mapping[str, Any]) -> None:
    n = len(slice_files)
    with h5py.File(path, "w") as target:
        target.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, **attrs})
        target.attrs["slices_completed"] = n
        slices = np.zeros(n, dtype=SLICE_DTYPE)
        steps: list[np.ndarray] = []
        metadata: list[Any] = []
        stack = _Stacker(target, n)
        for i, slice_path in enumerate(slice_files):
            with h5py.File(slice_path, "r") as source:
                if int(source.attrs["slice"]) != i:
                    raise ValueError(f"{slice_path.name} holds slice {source.attrs['slice']}")
                slices[i] = _slice_row(source)
                steps.append(source["steps"][()])
                metadata.append(json.loads(source["steps"].attrs["metadata_json"]))
                _copy_products(source, target, stack, i)
                _copy_truth(source, stack, i)
        target.create_dataset("slices", data=slices)
        step_table = np.concatenate(steps) if steps else np.zeros(0)
        target.create_dataset("steps", data=step_table)
        target["steps"].attrs["metadata_json"] = json.dumps(metadata)


def consolidate(path: Path, slice_files: Sequence[Path], attrs: Mapping[str, Any]) -> Path:
    """Stack ``slice_files`` (slices 0..n-1 in order) into ``path`` atomically."""
    write_atomic(path, lambda tmp: _write(tmp, slice_files, attrs))
    return path


def step_totals(path: Path) -> dict[str, dict[str, float | int]]:
    """Instrument seconds and counts by step kind over every slice in the run file."""
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    with h5py.File(path, "r") as f:
        steps = f["steps"][()]
    if steps.size:
        for kind, duration in zip(steps["kind"], steps["duration_s"], strict=True):
            name = kind.decode()
            seconds[name] = seconds.get(name, 0.0) + float(duration)
            counts[name] = counts.get(name, 0) + 1
    return {
        "step_seconds": {k: round(v, 3) for k, v in sorted(seconds.items())},
        "step_counts": dict(sorted(counts.items())),
    }


def read_attrs(path: Path) -> dict[str, Any]:
    """The run file's root attributes (recipe, seed, status...)."""
    with h5py.File(path, "r") as f:
        return dict(f.attrs.items())
