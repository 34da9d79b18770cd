"""The run file ``run.h5``: every slice of a run stacked into one NeXus/HDF5 file.

Layout (format ``fibsims-run`` version 3; every dataset is documented with units and axes in
``docs/data.md``)::

    /                      NXroot; attrs: format, format_version, fibsims_version, recipe
                           (YAML text), recipe_name, sample_name, seed, instrument,
                           ion_species, voltage_kv, status, slices_planned, slices_completed,
                           slices_missing, slice_thickness_nm, face_width_um, face_height_um
    /entry                 NXentry: title, program_name, experiment_description, run_status,
                           sample (NXsample), instrument (NXinstrument/NXsource)
    /entry/slices          table, one row per committed slice: index, missing, file_crc32,
                           face_z_um (measured when the run follows a fiducial, else nominal),
                           nominal_front_um, started_s, finished_s, duration_s,
                           stage_{x,y,z}_um, stage_{tilt,rotation}_deg; attr context_json: the
                           run context each slice left (drift, beam shift, cut offset, fiducial)
    /entry/steps           table, one row per executed step (slice, position, kind, started_s,
                           finished_s, duration_s, current_na); attr metadata_json per slice
    /entry/se_image        NXdata: data (slices, H, W) uint16 SE counts on axes z, y, x (um);
                           field_center_um (slices, 2); per-slice current_na, duration_s,
                           saturated_fraction; attrs pixel_size_nm, dwell_us, frames
    /entry/sims_raster     NXdata: counts (slices, peaks, H, W) uint32 on axes z, peak_mass,
                           y, x; peak_label; peak_table (TofDAQ PeakTable fields); sum_spectrum
                           (slices, samples); mass_axis (samples); saturated_lines (slices, H);
                           field_center_um; attrs: TofDAQ mass calibration
    /entry/<product>/acquired  (slices,) uint8 on every product: 1 where the slice has it (a
                           step on an ``every:`` schedule runs on some slices only; the other
                           rows keep the fill value, 0 or NaN); attr step_position: the step of
                           the slice that made it (its ``position`` in the step table)
    /entry/truth/<product>/<map>  ground truth on the product's own grid (twin runs, maps with
                           ``--truth``); truth/<product>/geometry (slices, 7): where each
                           acquisition truly landed (data.truth.GEOMETRY_FIELDS)

Products are named by their steps (``name:`` in the recipe, else ``se_image``, ``se_image_2``,
...). Per-slice arrays are chunked one slice per chunk and compressed with Blosc (zstd level 1,
bit-shuffle), through hdf5plugin: less than half the size of raw counts for a few ms per
slice (docs/data.md has the measurement). Text is UTF-8 variable-length strings.

Times are instrument-clock seconds from the start of the run. It is written from the per-slice
files, atomically, whenever a session ends; a run that stops early still gets one with what was
committed. A committed slice whose file was damaged or lost afterwards (its sample is milled
away, so it cannot be redone) keeps its row, flagged ``missing``, with zeros (NaN in float
datasets) for its data: the slice numbering never shifts. After writing, :func:`consolidate`
reopens the file and checks every stacked row against what it read from the slice files.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np

from fibsims.data import nexus
from fibsims.data.atomic import write_atomic
from fibsims.data.slice_file import STEP_DTYPE
from fibsims.engine.store import Receipt

FORMAT = "fibsims-run"
FORMAT_VERSION = 3
ENTRY = "entry"
COMPRESSION = hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=hdf5plugin.Blosc.BITSHUFFLE)
"""Measured on the default run's first 20 slices: 39.5 MB against 90.8 MB raw, 8 ms a slice to
write; gzip level 1 with shuffle reached 40.2 MB at 60 ms a slice, lzf 65.8 MB."""
TEXT = h5py.string_dtype("utf-8")

SLICE_DTYPE = np.dtype(
    [
        ("index", "<i4"),
        ("missing", "u1"),
        ("file_crc32", "S8"),
        ("face_z_um", "<f8"),
        ("nominal_front_um", "<f8"),
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


class RunFileError(Exception):
    """run.h5 could not be written, or does not hold what was written into it."""


@dataclass(frozen=True)
class SliceSource:
    """A committed slice as the journal knows it: its file, and the receipt of that file."""

    index: int
    path: Path
    receipt: Receipt


@dataclass(frozen=True)
class Consolidated:
    path: Path
    slices: int
    missing: dict[int, str]
    """Committed slices whose data could not be included, with why."""


def _slice_row(source: h5py.File, slice_: SliceSource) -> np.ndarray:
    row = np.zeros((), dtype=SLICE_DTYPE)
    row["index"] = slice_.index
    row["file_crc32"] = slice_.receipt.crc32.encode()
    row["duration_s"] = source.attrs["finished_s"] - source.attrs["started_s"]
    for name in SLICE_DTYPE.names:
        if name in source.attrs and name != "index":
            row[name] = source.attrs[name]
    return row


def _fill(dtype: np.dtype) -> Any:
    """Rows never written (a missing slice) read as NaN in float datasets, else the default."""
    return np.nan if np.issubdtype(dtype, np.floating) else None


class _Stacker:
    """Creates each stacked dataset on first sight and fills row ``i`` for slice ``i``; keeps
    the CRC-32 of every row it wrote, so the file can be checked once it is on disk.

    Arrays go to datasets chunked one slice per chunk, created ``capacity`` rows long and, when
    ``growable``, resizable (a run file written as the run goes does not know its final slice
    count); per-slice scalars are gathered in memory and written as whole datasets by
    :meth:`close`, one HDF5 write each rather than one per slice."""

    def __init__(self, target: h5py.File, capacity: int, growable: bool = False) -> None:
        self.target = target
        self.capacity = capacity
        self.growable = growable
        self.written: dict[tuple[str, int], int] = {}
        self.acquired: dict[str, np.ndarray] = {}
        self.scalars: dict[str, np.ndarray] = {}

    def has(self, product: str, i: int) -> None:
        """Row ``i`` holds ``product`` (a product of a scheduled step is on some rows only)."""
        self.acquired.setdefault(product, np.zeros(self.capacity, dtype=np.uint8))[i] = 1

    def first(self, name: str) -> bool:
        """Whether ``name`` has not been created yet (its static attributes go with it)."""
        return name not in self.target and name not in self.scalars

    def put(self, name: str, i: int, value: np.ndarray) -> None:
        value = np.ascontiguousarray(value)
        if not value.ndim:
            if name not in self.scalars:
                fill = _fill(value.dtype) or 0
                self.scalars[name] = np.full(self.capacity, fill, dtype=value.dtype)
            self.scalars[name][i] = value
        else:
            if name not in self.target:
                self.target.create_dataset(
                    name,
                    shape=(self.capacity, *value.shape),
                    maxshape=(None, *value.shape) if self.growable else None,
                    dtype=value.dtype,
                    chunks=(1, *value.shape),
                    fillvalue=_fill(value.dtype),
                    **COMPRESSION,
                )
            self.target[name][i] = value
        self.written[(name, i)] = zlib.crc32(value.tobytes())

    def arrays_of(self, i: int) -> list[str]:
        """The chunked datasets row ``i`` was written to (for reading them back)."""
        return [name for (name, row) in self.written if row == i and name not in self.scalars]

    def close(self, n: int) -> None:
        """Write the gathered scalars and the ``acquired`` flags, ``n`` rows long."""
        for name, values in self.scalars.items():
            self.target.create_dataset(name, data=values[:n], fillvalue=_fill(values.dtype))
        for product, rows in self.acquired.items():
            self.target[product].create_dataset("acquired", data=rows[:n])
        if self.growable:
            for name in {name for (name, _) in self.written if name not in self.scalars}:
                self.target[name].resize(n, axis=0)


def _copy_products(source: h5py.File, target: h5py.Group, stack: _Stacker, i: int) -> None:
    for name, ds in source.get("images", {}).items():
        stack.has(name, i)
        first = stack.first(f"{name}/data")
        stack.put(f"{name}/data", i, ds[()])
        for key in PER_SLICE_IMAGE_ATTRS:
            stack.put(f"{name}/{key}", i, np.asarray(ds.attrs[key], dtype="f8").reshape(()))
        if first:
            target[name].attrs.update(
                {k: v for k, v in ds.attrs.items() if k not in PER_SLICE_IMAGE_ATTRS}
            )
    for name, group in source.get("rasters", {}).items():
        stack.has(name, i)
        first = stack.first(f"{name}/counts")
        stack.put(f"{name}/counts", i, group["counts"][()])
        stack.put(f"{name}/sum_spectrum", i, group["sum_spectrum"][()])
        stack.put(f"{name}/saturated_lines", i, group["saturated_lines"][()])
        for key in PER_SLICE_RASTER_ATTRS:
            stack.put(f"{name}/{key}", i, np.asarray(group.attrs[key], dtype="f8").reshape(()))
        if first:
            target[name].create_dataset("peak_table", data=as_text(group["peak_table"][()]))
            target[name].create_dataset("mass_axis", data=group["mass_axis"][()])
            target[name].attrs.update(
                {k: v for k, v in group.attrs.items() if k not in PER_SLICE_RASTER_ATTRS}
            )


def _copy_truth(source: h5py.File, stack: _Stacker, i: int) -> None:
    for name, group in source.get("truth", {}).items():
        for key, ds in group.items():
            stack.put(f"truth/{name}/{key}", i, ds[()])


class RunFileBuilder:
    """Stacks slices into an open run file, row ``i`` for slice ``i``, then writes its tables,
    attributes and NeXus decoration. One builder serves both ways run.h5 is made: from the
    slice files when a session ends (:func:`consolidate`) and slice by slice as the run goes
    (``data.live_products``), so both make the same file."""

    def __init__(self, file: h5py.File, capacity: int, growable: bool = False) -> None:
        self.file = file
        self.target = file.create_group(ENTRY)
        self.capacity = capacity
        self.table = np.zeros(capacity, dtype=SLICE_DTYPE)
        self.steps: list[np.ndarray] = []
        self.metadata: list[Any] = []
        self.contexts: list[Any] = []
        self.stack = _Stacker(self.target, capacity, growable)
        self.rows = 0

    def add_missing(self, i: int, slice_: SliceSource) -> None:
        """Row ``i`` for a committed slice whose data cannot be included."""
        self._start_row(i, slice_)
        self.table[i]["missing"] = 1
        self.metadata.append(None)
        self.contexts.append(None)

    def add(self, i: int, slice_: SliceSource, source: h5py.File) -> None:
        """Stack the open slice file ``source`` as row ``i``; raise ValueError / OSError /
        KeyError / TypeError if it is not a slice file of slice ``slice_.index``."""
        if int(source.attrs["slice"]) != slice_.index:
            raise ValueError(f"it holds slice {source.attrs['slice']}")
        row = _slice_row(source, slice_)
        steps = source["steps"][()]
        metadata = json.loads(source["steps"].attrs["metadata_json"])
        context = json.loads(source.attrs.get("context_json", "{}"))
        _copy_products(source, self.target, self.stack, i)
        _copy_truth(source, self.stack, i)
        self._start_row(i, slice_)
        self.table[i] = row
        self.steps.append(steps)
        self.metadata.append(metadata)
        self.contexts.append(context)

    def _start_row(self, i: int, slice_: SliceSource) -> None:
        if i != self.rows:
            raise ValueError(f"row {i} comes after row {self.rows - 1}")
        if i >= self.capacity:  # a run never commits more slices than it plans
            raise ValueError(f"row {i} is past the file's {self.capacity} rows")
        self.table[i]["index"] = slice_.index
        self.table[i]["file_crc32"] = slice_.receipt.crc32.encode()
        self.rows += 1

    def close(self, attrs: Mapping[str, Any], missing: Mapping[int, str]) -> None:
        """Write the tables, attributes and NeXus decoration for the rows added so far."""
        n, target = self.rows, self.target
        table = self.table[:n]
        self.stack.close(n)
        target.create_dataset("slices", data=as_text(table))
        target["slices"].attrs["context_json"] = json.dumps(self.contexts)
        steps = np.concatenate(self.steps) if self.steps else np.zeros(0, dtype=STEP_DTYPE)
        target.create_dataset("steps", data=as_text(steps))
        target["steps"].attrs["metadata_json"] = json.dumps(self.metadata)
        self.file.attrs.update({"format": FORMAT, "format_version": FORMAT_VERSION, **attrs})
        self.file.attrs["slices_completed"] = n
        self.file.attrs["slices_missing"] = np.array(sorted(missing), dtype="<i4")
        nexus.decorate(target, attrs, table, self.contexts)


def _write(
    path: Path,
    slices: Sequence[SliceSource],
    attrs: Mapping[str, Any],
    missing: dict[int, str],
    between: Callable[[], None] = lambda: None,
) -> dict[tuple[str, int], int]:
    with h5py.File(path, "w") as file:
        builder = RunFileBuilder(file, len(slices))
        for i, slice_ in enumerate(slices):
            between()  # may raise to stop (a second Ctrl-C): the old file stays as it was
            if slice_.index in missing:
                builder.add_missing(i, slice_)
                continue
            try:
                with h5py.File(slice_.path, "r") as source:
                    builder.add(i, slice_, source)
            except (OSError, ValueError, KeyError, TypeError) as error:
                # the file matched its checksum yet is no slice file: damaged before commit
                missing[slice_.index] = f"its file cannot be read as a slice ({error})"
                builder.add_missing(i, slice_)
        builder.close(attrs, missing)
    return builder.stack.written


def as_text(table: np.ndarray) -> np.ndarray:
    """``table`` with its fixed-length byte fields as UTF-8 text, which every HDF5 reader
    shows as strings (fixed bytes come back as ``b'...'`` in Python and as codes elsewhere)."""
    fields = table.dtype.fields or {}
    if not any(dtype.kind == "S" for dtype, *_ in fields.values()):
        return table
    dtype = np.dtype(
        [(name, TEXT if dtype.kind == "S" else dtype) for name, (dtype, *_) in fields.items()]
    )
    out = np.empty(table.shape, dtype=dtype)
    for name, (field_dtype, *_) in fields.items():
        out[name] = (
            [_str(v) for v in table[name].ravel()] if field_dtype.kind == "S" else table[name]
        )
    return out


def _str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def entry_of(file: h5py.File) -> h5py.Group:
    """Where the run's datasets sit: ``/entry``, or the root of a version-2 file."""
    return file.get(ENTRY, file)


def consolidate(
    path: Path,
    slices: Sequence[SliceSource],
    attrs: Mapping[str, Any],
    missing: Mapping[int, str] | None = None,
    between: Callable[[], None] = lambda: None,
) -> Consolidated:
    """Stack the committed ``slices`` (0..n-1, in order) into ``path`` atomically, then reopen
    it and check it: slice count, the journal's checksums, and every stacked row.

    ``missing`` names slices already known to be damaged; slices that turn out unreadable are
    added. Raises :class:`RunFileError` (the old file, if any, left in place) on any failure.
    """
    lost = dict(missing or {})
    written: dict[tuple[str, int], int] = {}

    def write(tmp: Path) -> None:
        written.update(_write(tmp, slices, attrs, lost, between))

    try:
        write_atomic(path, write)
        verify(path, slices, written, between)
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise RunFileError(f"could not write {path.name}: {detail}") from error
    return Consolidated(path=path, slices=len(slices), missing=lost)


def verify(
    path: Path,
    slices: Sequence[SliceSource],
    written: Mapping[tuple[str, int], int] | None = None,
    between: Callable[[], None] = lambda: None,
) -> None:
    """Check the run file on disk: it opens, holds one row per committed slice with the
    journal's checksum, and (given ``written``) every stacked row is what was written."""
    with h5py.File(path, "r") as f:
        if int(f.attrs.get("slices_completed", -1)) != len(slices):
            raise RunFileError(
                f"{path.name} holds {f.attrs.get('slices_completed')} slices, the journal "
                f"{len(slices)}"
            )
        entry = entry_of(f)
        table = entry["slices"][()]
        expected = [(s.index, s.receipt.crc32) for s in slices]
        found = [(int(r["index"]), _str(r["file_crc32"])) for r in table]
        if found != expected:
            raise RunFileError(f"{path.name}'s slice table does not match the journal")
        for (name, i), crc in (written or {}).items():
            between()
            row = np.ascontiguousarray(entry[name][i])
            if zlib.crc32(row.tobytes()) != crc:
                raise RunFileError(f"{path.name}: {name} of slice {i} reads back changed")


def run_file_matches(path: Path, slices: Sequence[SliceSource]) -> bool:
    """Whether ``path`` is a readable run file holding exactly the journal's ``slices``."""
    try:
        verify(path, slices)
    except (OSError, RuntimeError, ValueError, KeyError, RunFileError):
        return False
    return True


def step_totals(path: Path) -> dict[str, dict[str, float | int]]:
    """Instrument seconds and counts by step kind over every slice in the run file."""
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    with h5py.File(path, "r") as f:
        steps = entry_of(f)["steps"][()]
    if steps.size:
        for kind, duration in zip(steps["kind"], steps["duration_s"], strict=True):
            name = _str(kind)
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
