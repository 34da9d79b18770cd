"""Sweep folders for the comparison report's tests, laid out as ``fibsims sweep`` writes them
(sweep.json, sweep.csv, variants/<id>/ with preview/li7.npy and li7_truth.npy), from real quick
twin runs made in-process; and the ways such a folder is damaged."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from fibsims.data.run_reader import RunData
from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[3]
QUICK = ROOT / "recipes" / "quick.yaml"
OBJECTIVE = "quality.li_map_pearson_r"
AXIS = "slice.3.sims_raster.frames"
SMALL = (
    "volume.slices=3",
    "slice.2.se_image.resolution=[96,72]",
    "slice.3.sims_raster.resolution=[32,24]",
)
DONE = (("f1-s1", 1, 1), ("f4-s1", 4, 1), ("f2-s1", 2, 1))
"""(id, frames, seed) of the variants that run."""
FAILED = ("f4-s2", 4, 2, "preflight: limits.max_hours 0.001 h, the estimate is 0.1 h")
PENDING = ("f1-s2", 1, 2)
NOT_STARTED = ("f2-s2", 2, 2)
QUALITY = (
    "quality.drift_residual_px_rms",
    "quality.li_map_pearson_r",
    "quality.li_map_pearson_r_within_particles",
)
"""The last column is empty in every row, as for a metric the twin did not score."""


def write_preview(run_dir: Path, truth: bool = True) -> None:
    """preview/li7.npy (and li7_truth.npy) of the middle acquired slice, as the sweep does."""
    with RunData(run_dir / "run.h5") as run:
        labels = [p.label for p in run.peaks()]
        acquired = np.flatnonzero(run.acquired("sims_raster"))
        middle = int(acquired[len(acquired) // 2])
        li = np.asarray(run.counts()[middle, labels.index("7Li+")], dtype=np.float32)
        true = run.truth("sims_raster").get("li_fraction")
        li_true = None if true is None else np.asarray(true[middle], dtype=np.float32)
    (run_dir / "preview").mkdir(exist_ok=True)
    np.save(run_dir / "preview" / "li7.npy", li)
    if truth and li_true is not None:
        np.save(run_dir / "preview" / "li7_truth.npy", li_true)


def _run(out: Path, frames: int, seed: int) -> dict[str, Any]:
    report = start_run(
        RunRequest(
            recipe_path=QUICK,
            out=out,
            seed=seed,
            progress=False,
            truth=True,
            tell=lambda text: None,
            overrides=(*SMALL, f"{AXIS}={frames}"),
        )
    )
    assert report.ok, report.status
    write_preview(out)
    return json.loads((out / "summary.json").read_text())


def _row(variant: str, status: str, frames: int, seed: int, **cells: Any) -> dict[str, Any]:
    return {
        "variant": variant,
        "run_dir": f"variants/{variant}",
        "status": status,
        "error": cells.pop("error", ""),
        "seed": seed,
        AXIS: frames,
        **cells,
    }


def header() -> list[str]:
    return [
        "variant",
        "run_dir",
        "status",
        "error",
        "seed",
        AXIS,
        "simulated_seconds",
        "instrument_hours",
        "slices_done",
        "data_bytes",
        *QUALITY,
    ]


def write_table(folder: Path, rows: list[dict[str, Any]]) -> None:
    with open(folder / "sweep.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header(), restval="")
        writer.writeheader()
        writer.writerows(rows)


def make_sweep(folder: Path) -> Path:
    """A sweep of the quick recipe over sims_raster.frames = 1, 2, 4 and seeds 1, 2: three
    variants done, one failed, one pending, one not yet in the table."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for variant, frames, seed in DONE:
        run_dir = folder / "variants" / variant
        summary = _run(run_dir, frames, seed)
        quality = summary.get("quality", {})
        rows.append(
            _row(
                variant,
                "done",
                frames,
                seed,
                simulated_seconds=summary["simulated_seconds"],
                instrument_hours=summary["simulated_seconds"] / 3600,
                slices_done=summary["slices_completed"],
                data_bytes=(run_dir / "run.h5").stat().st_size,
                **{q: quality.get(q.removeprefix("quality."), "") for q in QUALITY},
            )
        )
    variant, frames, seed, error = FAILED
    (folder / "variants" / variant).mkdir(parents=True)
    rows.append(_row(variant, "failed", frames, seed, error=error, slices_done=0))
    rows.append(_row(PENDING[0], "pending", PENDING[1], PENDING[2]))
    write_table(folder, rows)
    every = [*DONE, FAILED[:3], PENDING, NOT_STARTED]
    manifest = {
        "format": "fibsims-sweep/1",
        "recipe": str(QUICK),
        "recipe_sha256": "ab" * 32,
        "sets": list(SMALL),
        "axes": {AXIS: [1, 2, 4]},
        "seeds": [1, 2],
        "objective": OBJECTIVE,
        "keep": "all",
        "variants": [
            {"id": v, "values": {AXIS: f}, "seed": s, "run_dir": f"variants/{v}"}
            for v, f, s in every
        ],
    }
    (folder / "sweep.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def scores(folder: Path) -> dict[str, float]:
    """The objective of each done variant, as the table holds it."""
    with open(folder / "sweep.csv", newline="", encoding="utf-8") as handle:
        return {
            row["variant"]: float(row[OBJECTIVE])
            for row in csv.DictReader(handle)
            if row["status"] == "done"
        }
