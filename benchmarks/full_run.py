"""Benchmark: the default 23-hour recipe on the twin, end to end.

Reports wall time, simulated time, slices, per-slice wall cost and peak memory (RSS), and
exits non-zero if the wall time exceeds the budget. Speed targets live here, not in unit tests.

    .venv/bin/python benchmarks/full_run.py [--recipe recipes/nmc811-li-map.yaml]
                                            [--budget-s 120] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "nmc811-li-map.yaml")
    parser.add_argument("--budget-s", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fibsims-bench-")) / "run"
    start = time.perf_counter()
    report = start_run(RunRequest(recipe_path=args.recipe, out=folder, progress=False))
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = report.summary
    result = {
        "recipe": str(args.recipe.name),
        "status": report.status,
        "slices": s["slices_completed"],
        "simulated_hours": s["simulated_hours"],
        "wall_seconds": round(wall, 2),
        "wall_ms_per_slice": round(1000 * wall / max(1, s["slices_completed"]), 1),
        "peak_rss_mib": round(peak_mib, 1),
        "run_file_mib": round((folder / "run.h5").stat().st_size / 2**20, 1),
        "budget_s": args.budget_s,
    }
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(folder.parent)
    return 0 if report.ok and wall <= args.budget_s else 1


if __name__ == "__main__":
    sys.exit(main())
