"""How the CLI shows results to a person: plain lines, no tracebacks."""

from __future__ import annotations

from rich.console import Console

from fibsims.recipe import RecipeError
from fibsims.service.runs import RunReport


def render_recipe_error(console: Console, error: RecipeError) -> None:
    console.print(f"FAIL {error.source}")
    for problem in error.problems:
        console.print(f"  {problem}", markup=False)


def render_run_report(console: Console, report: RunReport) -> None:
    s = report.summary
    hours = s["simulated_seconds"] / 3600.0
    console.print(
        f"{report.status}: {s['slices_completed']}/{s['slices_planned']} slices, "
        f"instrument time {hours:.2f} h ({s['simulated_seconds']:.0f} s) "
        f"in {s['wall_seconds']:.1f} s wall",
        markup=False,
    )
    if s.get("reason"):
        console.print(f"reason: {s['reason']}", markup=False)
    if s.get("quality"):
        q = s["quality"]
        console.print(
            f"7Li map vs truth: Pearson r {q['li_map_pearson_r']:.3f} (mean over "
            f"{q['slices_scored']} slices, worst {q['li_map_pearson_r_min']:.3f})",
            markup=False,
        )
    console.print(f"data: {report.layout.folder}", markup=False)
    for name, path in s.get("files", {}).items():
        console.print(f"  {name}: {path}", markup=False)


def render_status(console: Console, status: dict) -> None:
    done, planned = status["slices_completed"], status["slices_planned"]
    hours = (status.get("instrument_time_s") or 0.0) / 3600.0
    alive = "process running" if status["process_alive"] else "no process running"
    blanked = {True: "yes", False: "NO", None: "unknown"}[status.get("beam_blanked")]
    lines = [
        f"run:        {status['folder']}  (recipe {status['recipe']}, seed {status['seed']}, "
        f"instrument {status['instrument']})",
        f"state:      {status['state']} ({alive})",
        f"progress:   {done}/{planned} slices ({status['progress']:.0%}), "
        f"instrument time {hours:.2f} h",
        f"last event: {status.get('last_event')} at {status.get('updated_utc')}",
        f"beam blanked: {blanked}",
    ]
    if status.get("reason"):
        lines.append(f"why:        {status['reason']}")
    if status.get("next"):
        lines.append(f"next:       {status['next']}")
    for line in lines:
        console.print(line, markup=False)
