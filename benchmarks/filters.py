"""Benchmark: which HDF5 filter for run.h5, on one real slice of the default recipe.

Runs the default recipe for two slices on the twin (``fibsims run --set volume.slices=2``),
takes slice 1's arrays from its run.h5 (the SE image, the SIMS count maps, the sum spectrum;
read through ``RunData``) and writes them, one chunk per array as run.h5 does, with each
candidate filter: none, Blosc zstd 1 + bit-shuffle (run.h5's), Blosc lz4 + bit-shuffle,
gzip 1 + shuffle, lzf. Prints one JSON line: per filter the MB of one slice and the
milliseconds to write it (median of ``--repeats``), single-threaded Blosc.

    .venv/bin/python benchmarks/filters.py [--repeats 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("BLOSC_NTHREADS", "1")  # as the floor: one core's cost

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np

from fibsims.data.run_reader import RunData

ROOT = Path(__file__).resolve().parents[1]
BITSHUFFLE = hdf5plugin.Blosc.BITSHUFFLE
CANDIDATES: dict[str, dict[str, Any]] = {
    "none": {},
    "blosc-zstd1-bitshuffle": dict(hdf5plugin.Blosc(cname="zstd", clevel=1, shuffle=BITSHUFFLE)),
    "blosc-lz4-bitshuffle": dict(hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=BITSHUFFLE)),
    "gzip1-shuffle": {"compression": "gzip", "compression_opts": 1, "shuffle": True},
    "lzf": {"compression": "lzf"},
}


def default_slice(folder: Path) -> dict[str, np.ndarray]:
    """Slice 1 of a two-slice run of the default recipe (slice 0 also mills the fiducial)."""
    recipe = ROOT / "recipes" / "nmc811-li-map.yaml"
    command = [sys.executable, "-m", "fibsims", "run", str(recipe), "-o", str(folder / "run")]
    command += ["--set", "volume.slices=2", "--no-progress", "--quiet"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with RunData(folder / "run" / "run.h5") as run:
        return {
            "se_image": run.image()[1],
            "counts": run.counts()[1],
            "sum_spectrum": run.spectrum()[1][1],
        }


def write_ms_and_bytes(arrays: dict[str, np.ndarray], options: dict[str, Any]) -> tuple[float, int]:
    """Write the arrays into an in-memory HDF5 file; return ms and the file's bytes."""
    buffer = io.BytesIO()
    start = time.perf_counter()
    with h5py.File(buffer, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array, chunks=array.shape, **options)
    elapsed = 1000 * (time.perf_counter() - start)
    return elapsed, len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fibsims-filters-") as folder:
        arrays = default_slice(Path(folder))
    figures = {}
    for name, options in CANDIDATES.items():
        runs = [write_ms_and_bytes(arrays, options) for _ in range(args.repeats)]
        figures[name] = {
            "mb": round(runs[0][1] / 1e6, 2),
            "ms": round(statistics.median(ms for ms, _ in runs), 1),
        }
    print(json.dumps({"benchmark": "filters", "per_slice": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
