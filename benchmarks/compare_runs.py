"""Check two run folders hold the same data: run.h5 and sims.h5 dataset by dataset (dtype,
shape and bytes; compound tables field by field) and attribute by attribute.

Why: issue 13's optimisations must leave the twin's output unchanged bit for bit (same recipe,
same seed, same data). Run the same recipe and seed with the code before and after (e.g. the
old sources first on ``PYTHONPATH``) and compare the folders. Left out, because they record
when or by what a run was made, not what it measured: ``created_utc`` and the times derived
from it (sims.h5's creation time and its log's wall-clock strings), the fibsims version, and
HDF5's dimension-scale references (object identities, equal files differ in them).

    .venv/bin/python benchmarks/compare_runs.py OLD_RUN_FOLDER NEW_RUN_FOLDER

Prints one JSON line (datasets compared, differences) and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin  # noqa: F401 - registers run.h5's Blosc filter
import numpy as np

WALL_CLOCK_ATTRS = {
    "created_utc",
    "HDF5 File Creation Time",
    "fibsims_version",
    "FiblysGUIVersion",
    "FibInterfaceVersion",
    "Configuration File Contents",  # carries the fibsims version
    "DIMENSION_LIST",
    "REFERENCE_LIST",
}
WALL_CLOCK_FIELDS = {"timestring"}


def contents(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    with h5py.File(path, "r") as f:
        found["@/"] = dict(f.attrs.items())

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                found[name] = np.asarray(obj[()])
            found[f"@{name}"] = dict(obj.attrs.items())

        f.visititems(visit)
    return found


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.names:  # compound: strings may be variable-length objects
        names = [n for n in a.dtype.names if n not in WALL_CLOCK_FIELDS]
        return all(same_array(np.asarray(a[n]), np.asarray(b[n])) for n in names)
    if a.dtype.kind == "O":
        return a.tolist() == b.tolist()
    return a.tobytes() == b.tobytes()


def same_value(a: Any, b: Any) -> bool:
    try:
        return same_array(np.asarray(a), np.asarray(b))
    except (TypeError, ValueError):
        return str(a) == str(b)


def differences(old: Path, new: Path) -> tuple[int, list[str]]:
    a, b = contents(old), contents(new)
    found = [f"only in one: {name}" for name in sorted(a.keys() ^ b.keys())]
    datasets = 0
    for name in sorted(a.keys() & b.keys()):
        if not name.startswith("@"):
            datasets += 1
            if not same_array(a[name], b[name]):
                found.append(f"dataset {name}")
            continue
        for key in sorted((a[name].keys() | b[name].keys()) - WALL_CLOCK_ATTRS):
            if not same_value(a[name].get(key), b[name].get(key)):
                found.append(f"attribute {name[1:] or '/'}:{key}")
    return datasets, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "compare_runs"}
    failed = False
    for name in ("run.h5", "sims.h5"):
        if not (args.old / name).exists() and not (args.new / name).exists():
            continue
        datasets, found = differences(args.old / name, args.new / name)
        result[name] = {"datasets": datasets, "differences": found}
        failed = failed or bool(found)
    print(json.dumps(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
