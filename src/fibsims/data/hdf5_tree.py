"""What an HDF5 file of a run holds, for ``fibsims inspect``: which fibsims file it is, its
root attributes, and every dataset with its shape, dtype and units.

Why a walk and not :class:`~fibsims.data.run_reader.RunData`: inspecting is about the file as
it lies on disk, whatever its layout version, and it covers ``sims.h5`` and ``volumes.h5`` too;
nothing here interprets the data. Units are the datasets' ``units`` attributes (NeXus); where a
dataset has none its name's unit suffix (``x_um``, ``duration_s``) stands in, marked as read
from the name. A file that is not HDF5 (torn, damaged) or not one fibsims writes is a
:class:`Hdf5InspectError` naming the file and what to do, never an h5py traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin  # noqa: F401  (registers the Blosc filter run.h5 is compressed with)
import numpy as np

from fibsims.data.nexus import UNITS_BY_SUFFIX
from fibsims.data.run_file import FORMAT as RUN_FORMAT
from fibsims.data.volumes import FORMAT as VOLUMES_FORMAT

KINDS = {RUN_FORMAT: "run", VOLUMES_FORMAT: "volumes"}
TOFDAQ_MARK = "TofDAQ Version"
"""The root attribute every TofDAQ-layout file (sims.h5) carries."""
MAX_ATTR_CHARS = 200


class Hdf5InspectError(ValueError):
    """The file cannot be inspected; the message names it and says why and what to do."""


@dataclass(frozen=True)
class DatasetInfo:
    path: str
    shape: tuple[int, ...]
    dtype: str
    units: str | None
    units_from_name: bool = False
    fields: tuple[str, ...] = ()
    """The field names of a table (compound dtype)."""

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": self.path,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "units": self.units,
            "units_from_name": self.units_from_name,
        }
        if self.fields:
            record["fields"] = list(self.fields)
        return record


@dataclass
class Hdf5Tree:
    path: Path
    kind: str
    """``run``, ``volumes`` or ``sims`` (TofDAQ layout)."""
    attrs: dict[str, Any] = field(default_factory=dict)
    datasets: list[DatasetInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "attrs": self.attrs,
            "datasets": [d.as_dict() for d in self.datasets],
        }


def read_tree(path: Path) -> Hdf5Tree:
    """Walk the fibsims HDF5 file at ``path``."""
    try:
        handle = h5py.File(path, "r")
    except FileNotFoundError:
        raise Hdf5InspectError(f"{path} does not exist") from None
    except OSError as error:
        raise Hdf5InspectError(
            f"{path} cannot be read as HDF5 ({error}): it is torn or damaged (a copy cut "
            "short, a disk error); run.h5 is written again by `fibsims resume` while the run's "
            "slices/ folder exists, volumes.h5 by `fibsims reconstruct`; otherwise restore it"
        ) from None
    with handle:
        kind = _kind(handle)
        if kind is None:
            raise Hdf5InspectError(
                f"{path} is an HDF5 file but not one fibsims writes (no format attribute "
                f"{RUN_FORMAT!r} or {VOLUMES_FORMAT!r}, no {TOFDAQ_MARK!r}); give a run "
                "folder or its run.h5, sims.h5 or volumes.h5"
            )
        tree = Hdf5Tree(path, kind, {k: _plain(v) for k, v in handle.attrs.items()})
        try:
            handle.visititems(lambda name, item: _visit(tree, name, item))
        except (OSError, RuntimeError, KeyError) as error:
            raise Hdf5InspectError(
                f"{path} is damaged inside ({error}); its datasets cannot all be listed"
            ) from None
    return tree


def _kind(handle: h5py.File) -> str | None:
    format_name = _plain(handle.attrs.get("format"))
    if isinstance(format_name, str) and format_name in KINDS:
        return KINDS[format_name]
    return "sims" if TOFDAQ_MARK in handle.attrs else None


def _visit(tree: Hdf5Tree, name: str, item: Any) -> None:
    if not isinstance(item, h5py.Dataset):
        return
    units = _plain(item.attrs.get("units"))
    from_name = False
    if not isinstance(units, str):
        units = _units_from_name(name)
        from_name = units is not None
    shape = tuple(int(n) for n in item.shape or ())  # None: a null dataspace, no data
    fields = tuple(item.dtype.names or ())
    tree.datasets.append(DatasetInfo(name, shape, _dtype(item.dtype), units, from_name, fields))


def _units_from_name(name: str) -> str | None:
    leaf = name.rsplit("/", 1)[-1]
    return next((units for suffix, units in UNITS_BY_SUFFIX.items() if leaf.endswith(suffix)), None)


def _dtype(dtype: np.dtype) -> str:
    if dtype.names:
        return "compound"
    if h5py.check_string_dtype(dtype) is not None or dtype.kind == "O":
        return "string"
    return str(dtype)


def _plain(value: Any) -> Any:
    """An attribute as JSON-ready data; long text cut to :data:`MAX_ATTR_CHARS`."""
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = [_plain(v) for v in value.tolist()] if value.size <= 64 else f"array{value.shape}"
    if isinstance(value, str) and len(value) > MAX_ATTR_CHARS:
        value = value[:MAX_ATTR_CHARS] + f"... ({len(value):,} characters)"
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    return str(value)
