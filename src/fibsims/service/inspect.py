"""``fibsims inspect PATH``: what a run folder, or one file of it, holds, without opening a
viewer: the recipe and its ``--set`` overrides, how the run stands, its durations and
incidents, and every dataset of its HDF5 files with shape, dtype and units.

PATH may be a run folder, or a file in one (``run.h5``, ``sims.h5``, ``volumes.h5``,
``summary.json``), or such a file copied out of its folder (then only what the file itself
says). The file a person names must be readable: a torn, damaged or foreign one is an
:class:`InspectError` (exit 2). Inspecting a whole folder lists a damaged file with what is
wrong with it and goes on, since the rest of the folder still tells where the run stands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fibsims.data.hdf5_tree import Hdf5InspectError, read_tree
from fibsims.data.run_progress import duration_text, instrument_time_text
from fibsims.data.state_file import read_json_object
from fibsims.service.folder import RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.status import run_status

HDF5_FILES = ("run.h5", "sims.h5", "volumes.h5")
HDF5_SUFFIXES = (".h5", ".hdf5", ".nxs")
SUMMARY_NAME = "summary.json"
WHAT_TO_GIVE = "give a run folder or a file in it (run.h5, sims.h5, volumes.h5, summary.json)"
MAX_DATASET_LINES = 40
"""Datasets listed per file in the terminal (``--json`` lists all)."""
RUN_ATTRS = ("recipe_name", "status", "slices_planned", "slices_completed", "seed")


class InspectError(Exception):
    """PATH cannot be inspected; the message names it, says why and what to give instead."""


def inspect_path(path: Path) -> dict[str, Any]:
    """The inspection of ``path`` as a JSON-ready dict: ``path``, ``run`` (None when PATH is
    a file outside a run folder) and ``files`` (each a dataset walk, a summary, or an
    ``error``)."""
    if not path.exists():
        raise InspectError(f"{path} does not exist; {WHAT_TO_GIVE}")
    folder, named = (path, None) if path.is_dir() else (path.parent, path)
    if named is not None and not _known_file(named):
        raise InspectError(f"{path} is not a file fibsims inspect reads; {WHAT_TO_GIVE}")
    in_run = (folder / "run.json").exists()
    if named is None and not in_run:
        raise InspectError(f"{path} is not a fibsims run folder (no run.json); {WHAT_TO_GIVE}")
    report: dict[str, Any] = {"path": str(path), "run": _run(folder) if in_run else None}
    if named is not None:
        report["files"] = [_file(named)]  # the file asked for must be readable
    else:
        present = [folder / name for name in HDF5_FILES if (folder / name).exists()]
        report["files"] = [_file_or_error(p) for p in present]
    if report["run"] is None:
        report["run"] = _run_from_file(report["files"][0])
    return report


def _known_file(path: Path) -> bool:
    return path.suffix.lower() in HDF5_SUFFIXES or path.name == SUMMARY_NAME


def _run(folder: Path) -> dict[str, Any]:
    """How the run in ``folder`` stands, from its folder files (as ``status`` reads them)."""
    try:
        status = run_status(folder)
        manifest = open_run_folder(RunLayout(folder)).manifest
    except RunFolderError as error:
        raise InspectError(str(error)) from None
    summary = read_json_object(folder / SUMMARY_NAME) or {}
    extra = manifest.model_extra or {}
    instrument_s = summary.get("simulated_seconds", status.get("instrument_time_s"))
    slices_dir = folder / "slices"
    return {
        "folder": str(folder),
        "recipe": status["recipe"],
        "overrides": status["overrides"],
        "seed": status["seed"],
        "instrument": status["instrument"],
        "fibsims_version": extra.get("fibsims_version"),
        "created_utc": extra.get("created_utc"),
        "state": status["state"],
        "reason": status["reason"],
        "process_alive": status["process_alive"],
        "slices_completed": status["slices_completed"],
        "slices_planned": status["slices_planned"],
        "slices_missing": summary.get("slices_missing", status["slices_missing"]),
        "slice_files": len(list(slices_dir.glob("slice_*.h5"))) if slices_dir.is_dir() else 0,
        "durations": {
            "instrument_s": instrument_s,
            "instrument_expected_s": status.get("instrument_time_expected_s"),
            "wall_s": summary.get("wall_seconds"),
            "sessions": summary.get("sessions"),
            "step_seconds": summary.get("step_seconds", {}),
        },
        "incidents": summary.get("incidents") or _state_incidents(folder),
        "eta_utc": status.get("eta_utc"),
    }


def _state_incidents(folder: Path) -> dict[str, Any]:
    state = read_json_object(folder / "state.json") or {}
    incidents = state.get("incidents")
    return incidents if isinstance(incidents, dict) else {}


def _file(path: Path) -> dict[str, Any]:
    if path.name == SUMMARY_NAME:
        return _summary_file(path)
    try:
        return read_tree(path).as_dict()
    except Hdf5InspectError as error:
        raise InspectError(str(error)) from None


def _file_or_error(path: Path) -> dict[str, Any]:
    try:
        return _file(path)
    except InspectError as error:
        return {"path": str(path), "kind": "damaged", "error": str(error)}


def _summary_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InspectError(
            f"{path} cannot be read as JSON ({error}); it is torn or was edited: "
            "`fibsims resume` or `fibsims abort` write it again when the run is finalized"
        ) from None
    if not isinstance(data, dict) or "status" not in data:
        raise InspectError(f"{path} is not a fibsims run summary (no status); {WHAT_TO_GIVE}")
    return {"path": str(path), "kind": "summary", "summary": data}


def _run_from_file(record: dict[str, Any]) -> dict[str, Any]:
    """What a file outside its run folder says of the run (its root attributes, or the
    summary's fields)."""
    if record["kind"] == "summary":
        s = record["summary"]
        return {
            "recipe": s.get("recipe"),
            "state": s.get("status"),
            "slices_completed": s.get("slices_completed"),
            "slices_planned": s.get("slices_planned"),
            "durations": {
                "instrument_s": s.get("simulated_seconds"),
                "wall_s": s.get("wall_seconds"),
                "step_seconds": s.get("step_seconds", {}),
            },
            "incidents": s.get("incidents", {}),
        }
    attrs = record.get("attrs", {})
    found = {key: attrs.get(key) for key in RUN_ATTRS}
    overrides = attrs.get("recipe_overrides")
    return {
        "recipe": found["recipe_name"],
        "overrides": overrides.splitlines() if isinstance(overrides, str) else [],
        "state": found["status"] or attrs.get("run_status"),
        "slices_completed": found["slices_completed"],
        "slices_planned": found["slices_planned"],
        "seed": found["seed"],
    }


def describe_inspection(report: dict[str, Any]) -> list[str]:
    """The inspection as lines for a terminal."""
    run = report["run"] or {}
    lines = [f"inspect: {report['path']}"]
    overrides = " ".join(f"--set {o}" for o in run.get("overrides") or [])
    about = ", ".join(
        f"{key} {run[key]}" for key in ("seed", "instrument") if run.get(key) is not None
    )
    lines.append(f"recipe:     {run.get('recipe')}" + (f" ({about})" if about else ""))
    if overrides:
        lines.append(f"overrides:  {overrides}")
    state = run.get("state")
    reason = f": {run['reason']}" if run.get("reason") else ""
    lines.append(f"state:      {state}{reason}")
    lines.append(f"slices:     {run.get('slices_completed')}/{run.get('slices_planned')} committed")
    if run.get("slices_missing"):
        lines.append(f"missing:    slices {run['slices_missing']} (data lost after commit)")
    durations = run.get("durations") or {}
    if durations.get("instrument_s") is not None:
        instrument = instrument_time_text(
            float(durations["instrument_s"]), durations.get("instrument_expected_s"), False
        )
        wall = durations.get("wall_s")
        wall_text = f", wall {duration_text(float(wall))}" if wall is not None else ""
        lines.append(f"durations:  instrument {instrument}{wall_text}")
    if "incidents" in run:
        counts = {k: v for k, v in run["incidents"].items() if isinstance(v, int | float) and v}
        shown = ", ".join(f"{k} {v:g}" for k, v in counts.items()) or "none"
        lines.append(f"incidents:  {shown}")
    for record in report["files"]:
        lines += _file_lines(record)
    return lines


def _file_lines(record: dict[str, Any]) -> list[str]:
    if record["kind"] == "damaged":
        return [f"{record['path']}: DAMAGED: {record['error']}"]
    if record["kind"] == "summary":
        s = record["summary"]
        return [f"{record['path']}: summary, status {s.get('status')}"]
    datasets = record["datasets"]
    lines = [f"{record['path']} ({record['kind']}, {len(datasets)} datasets):"]
    for d in datasets[:MAX_DATASET_LINES]:
        shape = " x ".join(str(n) for n in d["shape"]) or "scalar"
        units = d["units"] or ""
        if units and d["units_from_name"]:
            units += " (from the name)"
        dtype = f"table of {len(d['fields'])} fields" if d.get("fields") else d["dtype"]
        lines.append(f"  {d['path']:<44} {shape:<16} {dtype:<10} {units}".rstrip())
    if len(datasets) > MAX_DATASET_LINES:
        lines.append(f"  ... and {len(datasets) - MAX_DATASET_LINES} more (--json lists all)")
    return lines
