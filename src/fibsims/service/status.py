"""``fibsims status``, ``abort`` and ``pause``: read a run folder, give a run up cleanly, or
pause a live one.

Abort never signals a process by its pid alone (after a reboot the pid may be a stranger's): it
leaves a request file that the live run polls at every safe point, waits for the run's lock to
be released (the run has then finalized, its data durable), and finalizes the run itself if no
process holds it. Pause works the same way on a live run: it is how another terminal pauses a
run on Windows, where no signal the run could catch can be sent to it (SIGTERM there is
``TerminateProcess``); on POSIX it does what SIGTERM does.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_json_atomic
from fibsims.data.state_file import read_json_object
from fibsims.engine.journal import Journal
from fibsims.service.finalize import Finalized, closing_summary, file_state_writer, finalize
from fibsims.service.folder import RunFolder, RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.lock import RunLock, RunLocked, holder, is_locked

NEXT_STEP = {
    "paused": "fibsims resume {folder}",
    "interrupted": "fibsims resume {folder}",
    "failed": "fibsims resume {folder} (after fixing the reason above), or fibsims abort {folder}",
    "running": "wait, watch, or pause: Ctrl-C in its terminal, or fibsims pause {folder}",
    "preflight": "wait",
    "finalizing": "wait: run.h5 is being written",
    "idle": "wait",
}


class AbortPending(Exception):
    """The live run was asked to abort but has not finished within the wait."""


class PausePending(Exception):
    """The live run was asked to pause but has not stopped within the wait."""


def run_status(folder: Path) -> dict[str, Any]:
    """Everything a person or a script needs to know about the run in ``folder``."""
    run = open_run_folder(RunLayout(folder))
    state = run.effective_state
    reason = str(run.state.get("reason", "")) if run.ended or run.alive else ""
    if state == "interrupted" and run.state.get("finalize_error"):
        reason = f"finalizing stopped: {run.state['finalize_error']}"
    elif state == "interrupted":
        owner = run.owner
        reason = (
            f"the process ({owner.pid if owner else 'unknown'}) ended while the run was "
            f"{run.interrupted_while}, without stopping it (killed or crashed)"
        )
    planned = run.slices_planned
    done = len(run.commits)
    status: dict[str, Any] = {
        "folder": str(folder),
        "recipe": run.manifest.recipe,
        "seed": run.manifest.seed,
        "instrument": run.manifest.instrument,
        "overrides": list(run.manifest.overrides),
        "state": state,
        "reason": reason,
        "slices_completed": done,
        "slices_planned": planned,
        "progress": round(done / planned, 4) if planned else 0.0,
        "slices_missing": run.state.get("slices_missing", []),
        "instrument_time_s": run.state.get("instrument_time_s"),
        "instrument_time_expected_s": run.state.get("instrument_time_expected_s"),
        "expected_is_floor": run.state.get("expected_is_floor", False),
        "current_step": run.state.get("current_step") if run.alive else None,
        "eta_utc": run.state.get("eta_utc") if run.alive else None,
        "last_event": run.state.get("last_event"),
        "beam_blanked": run.state.get("beam_blanked"),
        "process_alive": run.alive,
        "updated_utc": run.state.get("updated_utc"),
        "next": NEXT_STEP.get(state, "").format(folder=folder),
    }
    if run.scan.torn:
        status["journal"] = (
            f"ends in {len(run.scan.torn)} damaged bytes (a cut write); resume cuts them"
        )
    return status


def abort_run(folder: Path, wait_s: float = 120.0) -> dict[str, Any]:
    """Give up the run in ``folder``: a live one is asked to abort at its next safe point and
    waited for until its data is durable; a stopped one is finalized here as aborted."""
    layout = RunLayout(folder)
    run = open_run_folder(layout)
    if run.effective_state in {"completed", "aborted"}:
        raise RunFolderError(f"the run in {folder} is {run.effective_state} already")
    if is_locked(folder):
        _ask_live_run(layout, wait_s)
    lock = RunLock(folder, "abort")
    try:
        lock.acquire()
    except RunLocked:
        raise AbortPending(
            f"asked the run in {folder} ({holder(folder)}) to abort; it stops at the end of "
            "its running step, then writes run.h5; check `fibsims status`"
        ) from None
    try:
        run = open_run_folder(layout)
        if run.effective_state in {"completed", "aborted"}:
            if run.effective_state == "completed":
                raise RunFolderError(f"the run in {folder} completed before it could be aborted")
            return run_status(folder)
        Journal(layout.journal).repair()
        run = open_run_folder(layout)
        if run.state.get("state") == "finalizing" and run.state.get("outcome") == "completed":
            _finalize_pending_completion(run)  # every slice is in: nothing left to give up
        else:
            _finalize_aborted(run)
    finally:
        with contextlib.suppress(OSError):
            layout.abort_request.unlink(missing_ok=True)
        lock.release()
    return run_status(folder)


def _ask_live_run(layout: RunLayout, wait_s: float) -> None:
    """Leave the request, then wait until the run lets go of its folder."""
    write_json_atomic(layout.abort_request, {"requested_utc": time.time()})
    deadline = time.monotonic() + wait_s
    while is_locked(layout.folder) and time.monotonic() < deadline:
        time.sleep(0.1)


def pause_run(folder: Path, wait_s: float = 120.0) -> dict[str, Any]:
    """Ask the live run in ``folder`` to pause at the end of its running step (as Ctrl-C or
    SIGTERM would), and wait until it has stopped and let go of the folder."""
    layout = RunLayout(folder)
    run = open_run_folder(layout)
    if not is_locked(folder):
        raise RunFolderError(
            f"no process is working on the run in {folder} (it is {run.effective_state}): "
            "there is nothing to pause"
        )
    write_json_atomic(layout.pause_request, {"requested_utc": time.time()})
    deadline = time.monotonic() + wait_s
    while is_locked(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_locked(folder):  # the request stays: the run pauses at its next safe point
        raise PausePending(
            f"asked the run in {folder} ({holder(folder)}) to pause; it stops at the end of "
            "its running step; check `fibsims status`"
        )
    with contextlib.suppress(OSError):  # the run ended before it saw the request
        layout.pause_request.unlink(missing_ok=True)
    return run_status(folder)


def _finalize_pending_completion(run: RunFolder) -> None:
    previous = read_json_object(run.layout.summary) or {}

    def write_summary(done: Finalized) -> None:
        closing_summary(run, done, previous, reason="")

    finalize(run, "completed", file_state_writer(run), write_summary)


def _finalize_aborted(run: RunFolder) -> None:
    previous = read_json_object(run.layout.summary) or {}
    reason = "aborted by `fibsims abort`"

    def write_summary(done: Finalized) -> None:
        closing_summary(run, done, previous, reason=reason)

    write_state = file_state_writer(run)
    write_state(reason=reason)
    finalize(run, "aborted", write_state, write_summary)
