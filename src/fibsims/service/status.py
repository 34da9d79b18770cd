"""``fibsims status`` and ``fibsims abort``: read a run folder, or give a run up cleanly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_json_atomic
from fibsims.data.run_file import consolidate, read_attrs, step_totals
from fibsims.data.slice_file import slice_file_name
from fibsims.data.state_file import read_state
from fibsims.engine.journal import Journal
from fibsims.service.folder import RunFolder, RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout

NEXT_STEP = {
    "paused": "fibsims resume {folder}",
    "interrupted": "fibsims resume {folder}",
    "failed": "fibsims resume {folder} (after fixing the reason above), or fibsims abort {folder}",
    "running": "wait, watch, or press Ctrl-C in its terminal to pause",
    "preflight": "wait",
    "idle": "fibsims resume {folder}",
}


def run_status(folder: Path) -> dict[str, Any]:
    """Everything a person or a script needs to know about the run in ``folder``."""
    run = open_run_folder(RunLayout(folder))
    state = run.effective_state
    reason = run.state.get("reason", "")
    if state == "interrupted":
        reason = (
            f"the process ({run.state.get('pid')}) ended while the run was "
            f"{run.state.get('state')}, without stopping it (killed or crashed)"
        )
    planned = int(run.state.get("slices_planned") or 0)
    done = len(run.committed)
    return {
        "folder": str(folder),
        "recipe": run.manifest.get("recipe"),
        "seed": run.manifest.get("seed"),
        "instrument": run.manifest.get("instrument"),
        "state": state,
        "reason": reason,
        "slices_completed": done,
        "slices_planned": planned,
        "progress": round(done / planned, 4) if planned else 0.0,
        "instrument_time_s": run.state.get("instrument_time_s"),
        "last_event": run.state.get("last_event"),
        "beam_blanked": run.state.get("beam_blanked"),
        "process_alive": run.alive,
        "updated_utc": run.state.get("updated_utc"),
        "next": NEXT_STEP.get(state, "").format(folder=folder),
    }


def abort_run(folder: Path, wait_s: float = 60.0) -> dict[str, Any]:
    """Give up the run in ``folder``: a live one is asked to abort at its next safe point; a
    stopped one is consolidated and marked aborted, so nothing resumes it by mistake."""
    layout = RunLayout(folder)
    run = open_run_folder(layout)
    if run.effective_state in {"completed", "aborted"}:
        raise RunFolderError(f"the run in {folder} is {run.effective_state} already")
    if run.alive:
        os.kill(int(run.state["pid"]), signal.SIGUSR1)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if (read_state(layout.state) or {}).get("state") == "aborted":
                return run_status(folder)
            time.sleep(0.1)
        raise RunFolderError(
            f"asked process {run.state['pid']} to abort; it has not finished within "
            f"{wait_s:g} s (it stops at the end of its running step); check `fibsims status`"
        )
    _mark_aborted(layout, run)
    return run_status(folder)


def _mark_aborted(layout: RunLayout, run: RunFolder) -> None:
    slice_files = [layout.slices / slice_file_name(i) for i in run.committed]
    attrs = {"status": "aborted", "seed": run.manifest.get("seed", 0)}
    if layout.run_file.exists():
        kept = {k: v for k, v in read_attrs(layout.run_file).items() if k != "slices_completed"}
        attrs = {**kept, **attrs}
    consolidate(layout.run_file, slice_files, attrs)
    Journal(layout.journal).append({"entry": "aborted", "slices_completed": len(run.committed)})
    state = {**run.state, "state": "aborted", "reason": "aborted by `fibsims abort`"}
    write_json_atomic(layout.state, state)
    summary = read_state(layout.summary) or {}
    summary.update(
        status="aborted",
        reason=state["reason"],
        slices_completed=len(run.committed),
        **step_totals(layout.run_file),
    )
    write_json_atomic(layout.summary, summary)
    for path in slice_files:
        path.unlink()
