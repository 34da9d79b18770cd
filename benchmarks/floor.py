"""Benchmark: the floor, what the default run's data costs with nothing else around it.

A bare single-threaded numpy + h5py loop: per slice it draws the Poisson numbers the run draws
(one SE image of the recipe's resolution, one SIMS raster's count map per peak, one sum
spectrum of the twin's sample count; shapes read from the recipe and the twin's parameters)
and writes them to one HDF5 file with the filter run.h5 uses (hdf5plugin Blosc, zstd level 1,
bit-shuffle; one slice per chunk). Why: issue 13 asks that a whole run take no more wall time
than this, so the orchestration, the physics beyond the noise draw and every extra copy of
the data must fit in what a naive script spends anyway. The run's own filter is imported, not
repeated, so the floor follows it if it changes.

The means drawn are those of the default run (counts per pixel and frame, measured on its
slices), so the bytes compress about as the run's do; the phantom's structure is absent, so
the floor's file compresses a little better. Prints one JSON line.

    .venv/bin/python benchmarks/floor.py [--recipe recipes/nmc811-li-map.yaml] [--slices N]
"""

from __future__ import annotations

import os

# single-threaded on purpose, and before numpy or the Blosc filter read these
os.environ.setdefault("BLOSC_NTHREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from fibsims.data.run_file import COMPRESSION
from fibsims.recipe import load_recipe
from fibsims.recipe.steps import SEImageStep, SimsRasterStep
from fibsims_twin.parameters import TofParameters
from fibsims_twin.spectrum import n_samples

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECIPE = ROOT / "recipes" / "nmc811-li-map.yaml"
SE_COUNTS_PER_FRAME = 8400.0
"""Mean SE counts per pixel and frame of the default run (16,850 over its 2 frames)."""
SIMS_COUNTS_PER_FRAME = 2.4
"""Mean counts per pixel, peak and frame of the default run's five maps (58 over 24 frames)."""
SPECTRUM_MEAN = 2565.0
"""Mean counts per sample of the default run's sum spectrum."""


@dataclass(frozen=True)
class Shapes:
    """What one slice of a recipe holds: the arrays the floor draws and writes."""

    slices: int
    se_image: tuple[int, int]
    se_frames: int
    sims_counts: tuple[int, int, int]
    sims_frames: int
    spectrum_samples: int


def recipe_shapes(recipe_path: Path, slices: int | None = None) -> Shapes:
    """The first SE image and SIMS raster of the recipe's slice, as the run stores them
    (images are (H, W); resolution is [W, H])."""
    recipe = load_recipe(recipe_path)
    image = next(s for s in recipe.slice if isinstance(s, SEImageStep))
    raster = next(s for s in recipe.slice if isinstance(s, SimsRasterStep))
    (iw, ih), (rw, rh) = image.resolution, raster.resolution
    return Shapes(
        slices=slices if slices is not None else recipe.volume.slices,
        se_image=(ih, iw),
        se_frames=image.frames,
        sims_counts=(len(raster.peaks), rh, rw),
        sims_frames=raster.frames,
        spectrum_samples=n_samples(TofParameters()),
    )


def write_floor(shapes: Shapes, path: Path, seed: int = 0) -> int:
    """Draw and write every slice; return the file's size in bytes."""
    rng = np.random.default_rng(seed)
    n = shapes.slices
    with h5py.File(path, "w") as f:
        image = f.create_dataset(
            "se_image", (n, *shapes.se_image), np.uint16, chunks=(1, *shapes.se_image),
            **COMPRESSION,
        )  # fmt: skip
        counts = f.create_dataset(
            "counts", (n, *shapes.sims_counts), np.uint32, chunks=(1, *shapes.sims_counts),
            **COMPRESSION,
        )  # fmt: skip
        spectrum = f.create_dataset(
            "sum_spectrum", (n, shapes.spectrum_samples), np.float64,
            chunks=(1, shapes.spectrum_samples), **COMPRESSION,
        )  # fmt: skip
        for i in range(n):
            se_mean = SE_COUNTS_PER_FRAME * shapes.se_frames
            image[i] = np.minimum(rng.poisson(se_mean, shapes.se_image), 65535)
            sims_mean = SIMS_COUNTS_PER_FRAME * shapes.sims_frames
            counts[i] = rng.poisson(sims_mean, shapes.sims_counts)
            spectrum[i] = rng.poisson(SPECTRUM_MEAN, shapes.spectrum_samples)
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=DEFAULT_RECIPE)
    parser.add_argument("--slices", type=int, default=None, help="default: the recipe's")
    args = parser.parse_args()
    shapes = recipe_shapes(args.recipe, args.slices)
    folder = Path(tempfile.mkdtemp(prefix="fibsims-floor-"))
    try:
        start = time.perf_counter()
        size = write_floor(shapes, folder / "floor.h5")
        floor_s = time.perf_counter() - start
    finally:
        shutil.rmtree(folder)
    print(
        json.dumps(
            {
                "benchmark": "floor",
                "recipe": args.recipe.name,
                "slices": shapes.slices,
                "floor_s": round(floor_s, 2),
                "floor_mb": round(size / 1e6, 1),
                "se_image": list(shapes.se_image),
                "sims_counts": list(shapes.sims_counts),
                "spectrum_samples": shapes.spectrum_samples,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
