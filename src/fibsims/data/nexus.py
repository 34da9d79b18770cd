"""The NeXus structure of ``run.h5``: what lets a generic NeXus or HDF5 viewer plot a run with
real axes and units, without knowing fibsims.

Why NeXus: silx, NeXpy, h5web and the NeXus tools follow ``NX_class`` attributes, an entry's
``default`` and an ``NXdata`` group's ``signal`` and ``axes`` to a plottable dataset, and read
``units`` attributes and HDF5 dimension scales for the axes. The run's data sit in
``/entry`` (``NXentry``): each SE image product an ``NXdata`` (``data``: z, y, x) and each SIMS
raster an ``NXdata`` (``counts``: z, peak mass, y, x); ``sample`` (``NXsample``) and
``instrument`` (``NXinstrument`` with its ``NXsource``) describe what was measured with what.

Axes: ``z`` is where each slice's face stood (measured when the run followed a fiducial),
``y`` and ``x`` the pixel centres of the product's field in the face frame (um), and for
rasters ``peak_mass`` the peaks' masses (u, with ``peak_label``). ``field_center_um``
(slices, 2) records where each slice's field sat in the face frame, the geometry that
registering the SIMS maps on the SE images needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

from fibsims.engine.plan import product_steps
from fibsims.recipe import RecipeError, parse_recipe

TEXT = h5py.string_dtype("utf-8")


def _text(group: h5py.Group, name: str, value: str) -> None:
    group.create_dataset(name, data=value, dtype=TEXT)


def _nx(group: h5py.Group, nx_class: str, **attrs: Any) -> h5py.Group:
    group.attrs["NX_class"] = nx_class
    group.attrs.update(attrs)
    return group


def field_centers(table: np.ndarray, contexts: list[Any]) -> np.ndarray:
    """Where each slice's field sat in the face frame: the stage, plus the beam shift in
    force, less the drift the run had measured (the drift-corrected field; a run without a
    fiducial knows no drift, and its field is where stage and beam put it)."""
    centers = np.zeros((len(table), 2))
    for i, (row, context) in enumerate(zip(table, contexts, strict=True)):
        centers[i] = (row["stage_x_um"], row["stage_y_um"])
        if context:
            applied = np.asarray(context.get("applied_um", (0.0, 0.0)), dtype=float)
            stage = np.asarray(context.get("stage_offset_um", (0.0, 0.0)), dtype=float)
            drift = np.asarray(context.get("drift_um", (0.0, 0.0)), dtype=float)
            centers[i] += applied - stage - drift
    return centers


def field_offsets(recipe_text: str) -> dict[str, tuple[float, float]]:
    """Each product's field centre offset from the face centre, as its recipe step set it
    (``field_center_um``); none when the recipe cannot be read (an older run file)."""
    try:
        recipe = parse_recipe(recipe_text)
    except RecipeError:
        return {}
    return {name: tuple(step.field_center_um) for name, step in product_steps(recipe).items()}


UNITS_BY_SUFFIX = {"_na": "nA", "_s": "s", "_um": "um", "_nm": "nm", "_deg": "deg"}
"""Units of per-slice datasets, read from their names (the project names carry units)."""


def _units(group: h5py.Group) -> None:
    for name, item in group.items():
        if isinstance(item, h5py.Dataset) and "units" not in item.attrs:
            for suffix, units in UNITS_BY_SUFFIX.items():
                if name.endswith(suffix):
                    item.attrs["units"] = units


def _axes(group: h5py.Group, signal: str, names: list[str], values: list[np.ndarray]) -> None:
    """Axis datasets, each a dimension scale of the signal, with units."""
    data = group[signal]
    data.attrs["units"] = "counts"
    for dim, (name, value) in enumerate(zip(names, values, strict=True)):
        axis = group.create_dataset(name, data=value)
        axis.attrs["units"] = "u" if name == "peak_mass" else "um"
        axis.make_scale(name)
        data.dims[dim].attach_scale(axis)
        data.dims[dim].label = name
        group.attrs[f"{name}_indices"] = dim
    _nx(group, "NXdata", signal=signal, axes=names)


def pixel_axis(count: int, pixel_size_nm: float, center_um: float) -> np.ndarray:
    """Pixel centres (um) of ``count`` pixels centred on ``center_um``."""
    return center_um + (np.arange(count) + 0.5 - count / 2) * (pixel_size_nm / 1000.0)


def decorate(
    entry: h5py.Group, attrs: Mapping[str, Any], table: np.ndarray, contexts: list[Any]
) -> None:
    """Give the stacked run in ``entry`` its NeXus classes, axes, units and geometry."""
    root = entry.file
    _nx(root, "NXroot", default=entry.name.lstrip("/"), creator="fibsims")
    z = np.where(table["missing"] == 1, np.nan, table["face_z_um"]).astype(np.float64)
    centers = field_centers(table, contexts)
    images = [n for n, g in entry.items() if isinstance(g, h5py.Group) and "data" in g]
    rasters = [n for n, g in entry.items() if isinstance(g, h5py.Group) and "counts" in g]
    offsets = field_offsets(str(attrs.get("recipe", "")))
    for name in images + rasters:
        group = entry[name]
        pixel_nm = float(group.attrs["pixel_size_nm"])
        signal = "data" if name in images else "counts"
        height, width = group[signal].shape[-2:]
        product_centers = centers + np.asarray(offsets.get(name, (0.0, 0.0)))
        group.create_dataset("field_center_um", data=product_centers)
        _units(group)
        ys = pixel_axis(height, pixel_nm, product_centers[0, 1] if len(centers) else 0.0)
        xs = pixel_axis(width, pixel_nm, product_centers[0, 0] if len(centers) else 0.0)
        # a product on some slices only (a scheduled step) has no z where it was not made
        zs = np.where(group["acquired"][()] == 1, z, np.nan) if "acquired" in group else z
        if signal == "data":
            _axes(group, signal, ["z", "y", "x"], [zs, ys, xs])
        else:
            peaks = group["peak_table"][()]
            group.create_dataset("peak_label", data=[_str(p["label"]) for p in peaks], dtype=TEXT)
            masses = np.asarray(peaks["mass"], dtype=np.float64)
            _axes(group, signal, ["z", "peak_mass", "y", "x"], [zs, masses, ys, xs])
    if "truth" in entry:
        _nx(entry["truth"], "NXcollection")
    _nx(entry, "NXentry", default=images[0] if images else (rasters[0] if rasters else ""))
    _text(entry, "title", str(attrs.get("recipe_name", "")))
    _text(entry, "program_name", "fibsims")
    entry["program_name"].attrs["version"] = str(attrs.get("fibsims_version", ""))
    _text(entry, "experiment_description", str(attrs.get("recipe", "")))
    sample = _nx(entry.create_group("sample"), "NXsample")
    _text(sample, "name", str(attrs.get("sample_name", "")))
    _text(sample, "description", json.dumps(attrs.get("sample", {})))
    instrument = _nx(entry.create_group("instrument"), "NXinstrument")
    _text(instrument, "name", str(attrs.get("instrument", "")))
    source = _nx(instrument.create_group("source"), "NXsource")
    _text(source, "type", "Ion Source")
    _text(source, "probe", "ion")
    _text(source, "name", f"{attrs.get('ion_species', '')} plasma FIB")
    if "voltage_kv" in attrs:
        source.create_dataset("voltage", data=float(attrs["voltage_kv"])).attrs["units"] = "kV"


def _str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
