"""A stopped run resumes from its first uncommitted slice, and the resumed data equal, dataset by
dataset, those of a run that never stopped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fibsims.service.folder import RunFolderError
from fibsims.service.lock import RunLock
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run
from fibsims.service.status import abort_run, run_status


def _run(recipe: Path, out: Path, *faults: str):
    return start_run(RunRequest(recipe, out=out, seed=1, progress=False, faults=faults))


def test_a_hardware_fault_pauses_and_resume_completes_with_identical_data(
    quick_variant, same_datasets, tmp_path
):
    recipe = quick_variant(12)
    whole = _run(recipe, tmp_path / "whole")
    assert whole.ok
    stopped = _run(recipe, tmp_path / "stopped", "hardware_fault@slice=5,step=sims_raster")
    assert stopped.status == "paused"
    assert "HardwareFault during sims_raster of slice 5" in stopped.summary["reason"]
    status = run_status(tmp_path / "stopped")
    assert status["state"] == "paused" and status["slices_completed"] == 5
    assert status["beam_blanked"] is True and "fibsims resume" in status["next"]
    assert list((tmp_path / "stopped" / "superseded").glob("slice_000005-*.h5"))

    resumed = resume_run(ResumeRequest(tmp_path / "stopped", progress=False))
    assert resumed.ok and resumed.summary["slices_completed"] == 12
    assert resumed.summary["sessions"] == 2
    same_datasets(whole.layout.run_file, resumed.layout.run_file)
    assert resumed.summary["step_seconds"] == whole.summary["step_seconds"]
    assert resumed.summary["simulated_seconds"] == pytest.approx(whole.summary["simulated_seconds"])


def test_resume_refuses_a_completed_run(quick_variant, tmp_path):
    assert _run(quick_variant(3), tmp_path / "done").ok
    with pytest.raises(RunFolderError, match="completed; there is nothing to resume"):
        resume_run(ResumeRequest(tmp_path / "done", progress=False))


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(RunFolderError, match="not a fibsims run folder"):
        resume_run(ResumeRequest(tmp_path, progress=False))


def test_resume_reports_a_held_lock_before_judging_the_folder(tmp_path):
    """A run holds its folder's lock seconds before it writes run.json (its instrument opens
    in between): a resume then must say who works on the folder, not "not a run folder"."""
    with RunLock(tmp_path, "run"):
        assert not (tmp_path / "run.json").exists()
        with pytest.raises(
            RunFolderError, match=rf"another fibsims process .*process {os.getpid()}"
        ):
            resume_run(ResumeRequest(tmp_path, progress=False))
    assert not (tmp_path / "owner.json").exists()


def test_a_run_into_a_held_folder_that_holds_a_run_names_the_holder(quick_variant, tmp_path):
    """Two `fibsims run --out X` started together: the loser may find the winner's run.json
    written already; it must say who works on the folder, not that it "already holds a run"."""
    (tmp_path / "run.json").write_text("{}")
    with (
        RunLock(tmp_path, "run"),
        pytest.raises(RunFolderError, match=rf"another fibsims process .*process {os.getpid()}"),
    ):
        _run(quick_variant(3), tmp_path)
    with pytest.raises(RunFolderError, match="already holds a run"):  # unheld: as before
        _run(quick_variant(3), tmp_path)


def test_an_interrupted_write_is_set_aside_and_the_slice_redone(
    quick_variant, same_datasets, tmp_path
):
    recipe = quick_variant(8)
    whole = _run(recipe, tmp_path / "whole")
    stopped = _run(recipe, tmp_path / "cut", "hardware_fault@slice=4,step=mill")
    assert stopped.status == "paused"
    slices = tmp_path / "cut" / "slices"
    (slices / "slice_000004.h5.tmp").write_bytes(b"torn")  # a write cut by a kill
    (slices / "slice_000004.h5").write_bytes(b"complete but never journalled")
    resumed = resume_run(ResumeRequest(tmp_path / "cut", progress=False))
    assert resumed.ok
    same_datasets(whole.layout.run_file, resumed.layout.run_file)
    kept = list((tmp_path / "cut" / "superseded").glob("slice_000004-uncommitted-*.h5"))
    assert len(kept) == 1, "an uncommitted file is kept aside, not overwritten"


def test_abort_closes_a_stopped_run_for_good(quick_variant, tmp_path):
    stopped = _run(quick_variant(8), tmp_path / "x", "hardware_fault@slice=3,step=mill")
    assert stopped.status == "paused"
    status = abort_run(tmp_path / "x")
    assert status["state"] == "aborted" and status["slices_completed"] == 3
    summary = json.loads((tmp_path / "x" / "summary.json").read_text())
    assert summary["status"] == "aborted"
    with pytest.raises(RunFolderError, match="aborted"):
        resume_run(ResumeRequest(tmp_path / "x", progress=False))
    with pytest.raises(RunFolderError, match="aborted already"):
        abort_run(tmp_path / "x")
