"""Benchmark: the default 23-hour recipe on the twin, end to end, as a user runs it.

Runs ``fibsims run RECIPE`` in a fresh process (``--slices N`` sets ``volume.slices``) and
reports, as one JSON line:

- ``wall_s``: the process's wall time, start to exit (what the user waits for);
- ``peak_rss_mb``: the run process's peak resident memory (``wait4``'s ``ru_maxrss`` of that
  one child, so several runs in one benchmark never mix);
- ``cpu_s``: that child's CPU seconds, user and kernel, all its threads; over the machine's
  ``cores`` it is the least wall time any overlap of the run's work could reach
  (``cpu_bound_over_floor``, against the floor);
- ``finalize_s``: from the last ``slice_committed`` event of ``log.jsonl`` (its ``wall_time``)
  to run.h5 being in place (its modification time: it is written to a temporary name and
  renamed, so the time is when its last byte was written), the "freeze at the end";
  ``exit_after_commit_s`` adds sims.h5, summary.json and the process's exit;
- ``run_h5_mb``, the filter run.h5 uses, simulated hours and slices;
- unless ``--no-floor``: ``floor_s`` of ``benchmarks/floor.py`` for the same recipe and slice
  count, measured right after (back to back), and ``wall_over_floor``.

Exit code 0 whenever the run completed (targets are judged by ``report.py``), else 1.

    .venv/bin/python benchmarks/full_run.py [--recipe recipes/nmc811-li-map.yaml]
        [--slices N] [--no-floor] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from fibsims.data.run_file import COMPRESSION
from fibsims.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent


BLOSC_COMPRESSORS = {0: "blosclz", 1: "lz4", 2: "lz4hc", 4: "zlib", 5: "zstd"}
BLOSC_SHUFFLES = {0: "no shuffle", 1: "byte shuffle", 2: "bit-shuffle"}


def filter_name() -> str:
    """run.h5's filter, read from the run file's own setting so the table follows a change:
    Blosc's HDF5 options are (reserved x 4, level, shuffle, compressor)."""
    options = dict(COMPRESSION)
    if options.get("compression") != 32001:  # Blosc's registered HDF5 filter id
        return f"HDF5 filter {options.get('compression')}"
    *_, level, shuffle, compressor = options["compression_opts"]
    name = BLOSC_COMPRESSORS.get(compressor, str(compressor))
    return f"Blosc {name} level {level}, {BLOSC_SHUFFLES.get(shuffle, shuffle)}"


def slice_overrides(recipe: Path, slices: int) -> list[str]:
    """``--set`` flags for ``slices`` slices; ``limits.max_hours`` grows in proportion, as
    preflight would refuse twice the slices in the same hours."""
    loaded = load_recipe(recipe)
    hours = loaded.limits.max_hours * max(1.0, slices / loaded.volume.slices)
    return ["--set", f"volume.slices={slices}", "--set", f"limits.max_hours={math.ceil(hours)}"]


def run_once(
    recipe: Path, folder: Path, slices: int | None
) -> tuple[float, float, int, int, float]:
    """Run the recipe in a child process; return its wall seconds, the wall clock (epoch)
    when it exited, its exit code, its peak RSS in KiB and its CPU seconds, user and kernel
    (``wait4``: that child only)."""
    command = [sys.executable, "-m", "fibsims", "run", str(recipe), "-o", str(folder)]
    command += ["--no-progress", "--quiet"]
    if slices is not None:
        command += slice_overrides(recipe, slices)
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    cpu_s = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, time.time(), child.returncode, usage.ru_maxrss, cpu_s


def last_commit_epoch(log: Path) -> float:
    """The wall time (epoch seconds) of the last ``slice_committed`` event in log.jsonl."""
    last = None
    with open(log) as handle:
        for line in handle:
            if '"slice_committed"' in line:
                last = json.loads(line)["wall_time"]
    if last is None:
        raise SystemExit(f"{log} records no committed slice")
    return datetime.fromisoformat(last).timestamp()


def run_floor(recipe: Path, slices: int) -> dict:
    floor = HERE / "floor.py"
    command = [sys.executable, str(floor), "--recipe", str(recipe), "--slices", str(slices)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=ROOT / "recipes" / "nmc811-li-map.yaml")
    parser.add_argument("--slices", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor script")
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fibsims-bench-")) / "run"
    wall, exited, code, max_rss_kib, cpu_s = run_once(args.recipe, folder, args.slices)
    if not (folder / "summary.json").exists():
        shutil.rmtree(folder.parent)
        raise SystemExit(f"fibsims run exited {code} without a summary.json (see above)")
    summary = json.loads((folder / "summary.json").read_text())
    run_h5 = folder / "run.h5"
    commit = last_commit_epoch(folder / "log.jsonl")
    result = {
        "benchmark": "full_run",
        "recipe": args.recipe.name,
        "status": summary["status"],
        "slices": summary["slices_completed"],
        "slices_asked": args.slices or summary["slices_planned"],
        "simulated_hours": summary["simulated_hours"],
        "wall_s": round(wall, 2),
        "wall_ms_per_slice": round(1000 * wall / max(1, summary["slices_completed"]), 1),
        "peak_rss_mb": round(max_rss_kib * 1024 / 1e6, 1),
        "cpu_s": round(cpu_s, 2),
        "cores": os.cpu_count() or 1,
        "finalize_s": round(run_h5.stat().st_mtime - commit, 2),
        "exit_after_commit_s": round(exited - commit, 2),
        "run_h5_mb": round(run_h5.stat().st_size / 1e6, 1),
        "sims_h5_mb": round((folder / "sims.h5").stat().st_size / 1e6, 1),
        "filter": filter_name(),
    }
    if not args.keep:
        shutil.rmtree(folder.parent)
    if not args.no_floor:
        floor = run_floor(args.recipe, summary["slices_completed"])
        result["floor_s"] = floor["floor_s"]
        result["wall_over_floor"] = round(wall / floor["floor_s"], 2)
        # no schedule of this work on these cores can take less wall time than this
        result["cpu_bound_over_floor"] = round(cpu_s / result["cores"] / floor["floor_s"], 2)
    print(json.dumps(result))
    return 0 if code == 0 and summary["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
