"""Benchmark: the same sweep on an embedded Dask cluster of one worker, then of two.

Issue 15's target: two workers finish a sweep at least 1.6x faster than one. The sweep is
``recipes/quick.yaml`` at ``--slices`` slices (150 by default: about 6 s a variant on one
core, so the cluster's start-up does not dominate), varying the SIMS frame count over three
values with two seeds: six variants. Each measurement is a fresh
sweep folder and a fresh cluster (its start-up counted, as a user pays it). Prints one JSON
line: the wall times, the speedup, the target and the machine.

    .venv/bin/python benchmarks/sweep_scaling.py [--slices 150] [--target 1.6]

Needs as many idle cores as the workers it times: on a busy machine the speedup says more
about the neighbours than about fibsims. With ``--ceiling`` it also times what the machine
itself allows without Dask: one ``fibsims run`` of a variant alone, then two at once in two
processes (a single run already keeps a second core partly busy: the twin's helper thread and
the thread writing run.h5 and sims.h5).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sweep(out: Path, workers: int, slices: int) -> float:
    from fibsims.service.sweep.runner import SweepRequest, run_sweep

    request = SweepRequest(
        recipe=ROOT / "recipes" / "quick.yaml",
        out=out,
        vary=("sims_raster.frames=2,4,8",),
        seeds=2,
        sets=(f"volume.slices={slices}", "limits.max_hours=10"),
        workers=workers,
        progress=False,
        tell=lambda text: None,
    )
    start = time.perf_counter()
    report = run_sweep(request)
    wall = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"the sweep with {workers} workers failed: {report.failed}")
    return wall


def _runs_at_once(tmp: Path, count: int, slices: int) -> float:
    """Wall time of ``count`` plain ``fibsims run`` processes of one variant, started at once."""
    command = [sys.executable, "-m", "fibsims", "run", str(ROOT / "recipes" / "quick.yaml"),
               "--truth", "-q", "--set", f"volume.slices={slices}",
               "--set", "limits.max_hours=10"]  # fmt: skip
    start = time.perf_counter()
    processes = [
        subprocess.Popen([*command, "-o", str(tmp / f"run-{count}-{i}")], stdout=subprocess.DEVNULL)
        for i in range(count)
    ]
    if any(p.wait() != 0 for p in processes):
        raise SystemExit("a plain fibsims run failed")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=150)
    parser.add_argument("--target", type=float, default=1.6)
    parser.add_argument("--ceiling", action="store_true", help="also time plain runs")
    args = parser.parse_args()
    ceiling: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="fibsims-sweep-bench-") as tmp:
        os.environ.setdefault("FIBSIMS_TWIN_CACHE", str(Path(tmp) / "twin-cache"))
        _sweep(Path(tmp) / "warm", 1, 2)  # fills the twin's calibration cache, as a first use
        one = _sweep(Path(tmp) / "one", 1, args.slices)
        two = _sweep(Path(tmp) / "two", 2, args.slices)
        if args.ceiling:
            alone = _runs_at_once(Path(tmp), 1, args.slices)
            pair = _runs_at_once(Path(tmp), 2, args.slices)
            ceiling = {
                "plain_run_alone_s": round(alone, 2),
                "two_plain_runs_at_once_s": round(pair, 2),
                "machine_ceiling_speedup": round(2 * alone / pair, 2),
            }
    speedup = one / two
    print(
        json.dumps(
            {
                "benchmark": "sweep_scaling",
                "variants": 6,
                "slices": args.slices,
                "one_worker_s": round(one, 2),
                "two_workers_s": round(two, 2),
                "speedup": round(speedup, 2),
                "target": args.target,
                "ok": speedup >= args.target,
                **ceiling,
                "cores": os.cpu_count(),
                "python": platform.python_version(),
            }
        )
    )
    return 0 if speedup >= args.target else 1


if __name__ == "__main__":  # the embedded cluster's worker processes re-import this module
    sys.exit(main())
