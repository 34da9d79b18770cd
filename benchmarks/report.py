"""Run every benchmark of issue 13 and print one table: figure | measured | target | pass/fail.

Each benchmark is its own script printing one JSON line; this runs them one after another
(never in parallel: they measure wall time on a shared machine), collects the lines and judges
each figure against its target. Why a separate builder: the scripts stay usable alone, and a
new figure is one script plus one row here.

The default recipe is run twice: at its slice count (wall time against the floor measured right
after it, the freeze at the end, peak memory, run.h5) and at twice that (memory must stay flat).
``--quick`` runs 100 and 200 slices instead of 400 and 800, and the table says so.

Exit code 0 whatever the figures (the table says what fails); 1 only if a script crashed
(printed no JSON line).

    .venv/bin/python benchmarks/report.py [--quick] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK_SLICES = 100

Figures = dict[str, dict]


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    target: str
    passed: bool | None  # None: a figure reported, not judged (or its benchmark was skipped)


def machine() -> str:
    """Cores, CPU model (from /proc/cpuinfo when there is one) and Python: what the figures
    were measured on."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def run_script(name: str, *args: str) -> dict | None:
    """Run ``benchmarks/NAME.py ARGS``; its last stdout line parsed, or None if it crashed."""
    print(f"[bench] {name} {' '.join(args)}", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *args], stdout=subprocess.PIPE, text=True
    )
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        print(f"[bench] {name} crashed (exit {done.returncode})", file=sys.stderr)
        return None


def default_slices() -> int:
    sys.path.insert(0, str(HERE))
    from floor import DEFAULT_RECIPE, recipe_shapes

    return recipe_shapes(DEFAULT_RECIPE).slices


def collect(quick: bool) -> Figures:
    """The runs and scripts of the table. Memory flatness compares a run with one of half its
    slices: the default recipe at 400 and 200 (at 800 slices it stops at slice 79: its
    fiducial mark is lost, a recipe and twin matter left to its own issue), QUICK at 100 and
    200."""
    slices = QUICK_SLICES if quick else default_slices()
    other = 2 * slices if quick else slices // 2
    runs = {
        "full_run": ("full_run", "--slices", str(slices)),
        "full_run_doubled": ("full_run", "--slices", str(other), "--no-floor"),
        "filters": ("filters",),
        "estimate": ("estimate", "--budget-s", "0.2"),
        "overhead": ("overhead",),
        "sweep_scaling": ("sweep_scaling", "--slices", "30" if quick else "150"),
    }
    return {key: run_script(*command) for key, command in runs.items()}


def _full_run_rows(run: dict, doubled: dict | None, default: int) -> list[Row]:
    n = run["slices"]
    label = f"{n} slices" + ("" if n == default else f" (--quick; the recipe has {default})")
    rows = [
        Row(
            f"default recipe wall time, {label}",
            f"{run['wall_s']:.1f} s = {run['wall_over_floor']:.2f} x floor ({run['floor_s']} s)",
            "<= 1.00 x floor",
            run["wall_over_floor"] <= 1.0,
        ),
        Row(
            f"CPU time of that run (user + kernel), {run['cores']} cores",
            f"{run['cpu_s']:.1f} s: the least wall time on {run['cores']} cores is "
            f"{run['cpu_s'] / run['cores']:.1f} s = {run['cpu_bound_over_floor']:.2f} x floor",
            "reported",
            None,
        ),
        Row(
            "freeze at the end: last commit -> run.h5",
            f"{run['finalize_s']:.2f} s (process exit {run['exit_after_commit_s']:.2f} s)",
            "<= 2 s",
            run["finalize_s"] <= 2.0,
        ),
        Row(
            f"peak RSS, {n} slices",
            f"{run['peak_rss_mb']:.0f} MB",
            "< 500 MB",
            run["peak_rss_mb"] < 500,
        ),
        Row(
            "run.h5 size and filter",
            f"{run['run_h5_mb']:.0f} MB ({run['run_h5_mb'] / n:.2f} MB/slice), {run['filter']}",
            "reported",
            None,
        ),
    ]
    if doubled is not None:
        small, large = sorted((run, doubled), key=lambda r: r["slices"])
        ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
        whole = all(r.get("status") == "completed" for r in (run, doubled))
        rows += [
            Row(
                f"peak RSS flat: {large['slices']} / {small['slices']} slices",
                f"{large['peak_rss_mb']:.0f} / {small['peak_rss_mb']:.0f} MB = {ratio:.2f}"
                + (
                    ""
                    if whole
                    else f" (the {doubled.get('slices_asked')}-slice run ended "
                    f"{doubled.get('status')} at slice {doubled['slices']})"
                ),
                "< 1.10",
                whole and ratio < 1.10,
            ),
            Row(
                f"wall per slice, {small['slices']} -> {large['slices']} slices",
                f"{small['wall_ms_per_slice']:.0f} -> {large['wall_ms_per_slice']:.0f} ms",
                "reported",
                None,
            ),
        ]
    return rows


def rows(figures: Figures, default: int) -> list[Row]:
    out: list[Row] = []
    run = figures.get("full_run")
    if run is not None:
        out += _full_run_rows(run, figures.get("full_run_doubled"), default)
    if (filters := figures.get("filters")) is not None:
        listed = ", ".join(
            f"{k} {v['mb']} MB {v['ms']} ms" for k, v in filters["per_slice"].items()
        )
        out.append(Row("filters on one default slice", listed, "reported", None))
    if (estimate := figures.get("estimate")) is not None:
        out.append(
            Row(
                "fibsims estimate, default recipe",
                f"{estimate['median_s']:.3f} s (worst {estimate['worst_s']:.3f} s)",
                "<= 0.2 s",
                estimate["median_s"] <= 0.2,
            )
        )
    if (sweep := figures.get("sweep_scaling")) is not None:
        out.append(
            Row(
                f"sweep of {sweep['variants']} variants ({sweep['slices']} slices): 2 vs 1 worker",
                f"{sweep['one_worker_s']:.1f} s / {sweep['two_workers_s']:.1f} s = "
                f"{sweep['speedup']:.2f} x",
                f">= {sweep['target']} x",
                sweep["ok"],
            )
        )
    if (overhead := figures.get("overhead")) is not None:
        bare = f"fibsims {overhead['fibsims_us_per_step_no_fsync']:.0f} us/step"
        whole = (
            f"fibsims {overhead['fibsims_us_per_step']:.0f} us/step "
            f"(the disk's fsync {overhead['fsync_ms']:.2f} ms a commit, one per "
            f"{overhead['steps_per_slice']} steps)"
        )
        if overhead["ratio"] is None:
            skipped = f"bluesky skipped: {overhead['bluesky_skipped']}"
            out.append(
                Row(
                    "orchestration overhead per step", f"{bare}; {skipped}", "< 0.1 x bluesky", None
                )
            )
        else:
            theirs = f"bluesky {overhead['bluesky_us_per_step']:.0f} us/step"
            out.append(
                Row(
                    "orchestration overhead per step (journal fsync a no-op)",
                    f"{bare}, {theirs} = {overhead['ratio_no_fsync']:.2f} x",
                    "< 0.1 x bluesky",
                    overhead["ratio_no_fsync"] < 0.1,
                )
            )
            out.append(
                Row(
                    "... with the journal's fsync per committed slice",
                    f"{whole} = {overhead['ratio']:.2f} x",
                    "reported",
                    None,
                )
            )
    return out


def verdict(passed: bool | None) -> str:
    return "-" if passed is None else ("pass" if passed else "FAIL")


def table(found: list[Row]) -> str:
    cells = [("figure", "measured", "target", "pass/fail")]
    cells += [(r.figure, r.measured, r.target, verdict(r.passed)) for r in found]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SLICES} and {2 * QUICK_SLICES} slices"
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also save every JSON line")
    args = parser.parse_args()
    figures = collect(args.quick)
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nMachine: {machine()}\n")
    print(table(rows(figures, default_slices())))
    crashed = [name for name, found in figures.items() if found is None]
    if crashed:
        print(f"\ncrashed: {', '.join(crashed)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
