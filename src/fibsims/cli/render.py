"""How the CLI shows results to a person: plain lines, no tracebacks."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from fibsims.data.run_progress import duration_text, instrument_time_text, step_text
from fibsims.recipe import RecipeError
from fibsims.service.session import RunReport


def render_recipe_error(console: Console, error: RecipeError) -> None:
    console.print(f"FAIL {error.source}")
    for problem in error.problems:
        console.print(f"  {problem}", markup=False)


def _number(record: dict, key: str) -> float:
    """A number to show, 0 when the record lacks it (a summary rebuilt after a kill)."""
    value = record.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def run_result_line(report: RunReport) -> str:
    """``completed: 6/6 slices, instrument time 0.23 h (832 s) in 0.9 s wall``."""
    s = report.summary
    seconds = _number(s, "simulated_seconds")
    wall = (
        f"in {_number(s, 'wall_seconds'):.1f} s wall"
        if "wall_seconds" in s
        else "(wall time not recorded: a session was killed)"
    )
    return (
        f"{report.status}: {int(_number(s, 'slices_completed'))}/"
        f"{int(_number(s, 'slices_planned'))} slices, instrument time {seconds / 3600:.2f} h "
        f"({seconds:.0f} s) {wall}"
    )


def render_run_line(console: Console, report: RunReport) -> None:
    """The whole result in one line (``--quiet``, ``--json-events``): the result, the run
    folder, and why it stopped if it did."""
    reason = report.summary.get("reason")
    why = f"; reason: {reason}" if reason else ""
    console.print(f"{run_result_line(report)}: {report.layout.folder}{why}", markup=False)


def render_run_report(console: Console, report: RunReport) -> None:
    s = report.summary
    console.print(run_result_line(report), markup=False)
    for note in [*report.notes, *filter(None, [s.get("run_file_note"), s.get("sims_file_note")])]:
        console.print(f"note: {note}", markup=False)
    if s.get("reason"):
        console.print(f"reason: {s['reason']}", markup=False)
    incidents = s.get("incidents") or {}
    if any(incidents.get(k) for k in ("steps_retried", "steps_skipped", "holds", "engine_faults")):
        console.print(
            f"incidents: {incidents.get('steps_retried', 0):g} steps retried, "
            f"{incidents.get('steps_skipped', 0):g} skipped, {incidents.get('holds', 0):g} "
            f"suspender holds ({incidents.get('held_s', 0) / 60:.1f} min held), "
            f"{incidents.get('engine_faults', 0):g} unexpected errors (see log.jsonl)",
            markup=False,
        )
    if s.get("slices_missing"):
        missing = s["slices_missing"]
        console.print(
            f"MISSING: {len(missing)} committed slices lost their data after they were written "
            f"(slices {', '.join(map(str, missing[:10]))}{' ...' if len(missing) > 10 else ''}); "
            "they are flagged in run.h5 and their damaged files kept in superseded/",
            markup=False,
        )
    q = s.get("quality") or {}
    if "li_map_pearson_r" in q:
        console.print(
            f"7Li map vs truth: Pearson r {q['li_map_pearson_r']:.3f} (mean over "
            f"{q['slices_scored']} slices, worst {q['li_map_pearson_r_min']:.3f})"
            + (
                f"; within the particles {q['li_map_pearson_r_within_particles']:.3f}"
                if "li_map_pearson_r_within_particles" in q
                else ""
            ),
            markup=False,
        )
    if "drift_residual_px_rms" in q:
        console.print(
            f"loops vs truth: drift {q['drift_residual_px_rms']:.2f} px rms left of "
            f"{q['drift_uncorrected_px_rms']:.1f} px; slice pitch "
            f"{q['slice_thickness_nm_mean']:.2f} nm mean, {q['slice_thickness_nm_rms_error']:.2f}"
            f" nm rms error; focus {q['focus_error_um_rms']:.3f} um rms",
            markup=False,
        )
    console.print(f"data: {report.layout.folder}", markup=False)
    for name, path in s.get("files", {}).items():
        console.print(f"  {name}: {path}", markup=False)


def _eta(eta_utc: str | None) -> str | None:
    """``in 2 h 05 min (2026-11-30 07:40 UTC)`` from state.json's ``eta_utc``."""
    if not eta_utc:
        return None
    try:
        when = dt.datetime.fromisoformat(eta_utc)
    except ValueError:
        return None
    left = (when - dt.datetime.now(dt.UTC)).total_seconds()
    clock = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"in {duration_text(left)} ({clock})" if left > 0 else f"overdue ({clock} passed)"


def render_status(console: Console, status: dict) -> None:
    done, planned = status["slices_completed"], status["slices_planned"]
    instrument = instrument_time_text(
        _number(status, "instrument_time_s"),
        status.get("instrument_time_expected_s"),
        bool(status.get("expected_is_floor")),
    )
    alive = "process running" if status["process_alive"] else "no process running"
    blanked = {True: "yes", False: "NO", None: "UNKNOWN: check the instrument"}.get(
        status.get("beam_blanked"), "unknown"
    )
    lines = [
        f"run:        {status['folder']}  (recipe {status['recipe']}, seed {status['seed']}, "
        f"instrument {status['instrument']})",
        *(
            [f"overrides:  {' '.join('--set ' + o for o in status['overrides'])}"]
            if status.get("overrides")
            else []
        ),
        f"state:      {status['state']} ({alive})",
        f"progress:   {done}/{planned} slices ({status['progress']:.0%}), "
        f"instrument time {instrument}",
        f"last event: {status.get('last_event')} at {status.get('updated_utc')}",
        f"beam blanked: {blanked}",
    ]
    if status.get("current_step"):
        lines.append(f"now:        {step_text(status['current_step'])}")
    eta = _eta(status.get("eta_utc"))
    if eta:
        lines.append(f"ends:       {eta}")
    if status.get("reason"):
        lines.append(f"why:        {status['reason']}")
    if status.get("slices_missing"):
        lines.append(f"missing:    slices {status['slices_missing']} (data damaged after commit)")
    if status.get("journal"):
        lines.append(f"journal:    {status['journal']}")
    if status.get("next"):
        lines.append(f"next:       {status['next']}")
    for line in lines:
        console.print(line, markup=False)
