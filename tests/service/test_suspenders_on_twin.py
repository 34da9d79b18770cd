"""Suspenders and policies through the real twin: injected faults meet their policies."""

from __future__ import annotations

import errno
import json
from pathlib import Path

from fibsims.data import slice_file
from fibsims.service.runs import ResumeRequest, RunReport, RunRequest, resume_run, start_run


def _run(recipe: Path, out: Path, *faults: str) -> RunReport:
    return start_run(RunRequest(recipe, out=out, seed=1, progress=False, faults=faults))


def _events(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "log.jsonl").read_text().splitlines()]


def test_a_beam_current_drop_waits_and_the_run_goes_on_by_itself(quick_variant, tmp_path):
    report = _run(
        quick_variant(8), tmp_path / "r", "beam_current_drop@slice=3,duration_s=900,factor=0.2"
    )
    assert report.ok and report.summary["slices_completed"] == 8
    changes = [e for e in _events(tmp_path / "r") if e["event"] == "state_changed"]
    paused = [e for e in changes if e["state"] == "paused"]
    assert len(paused) == 1 and paused[0]["reason"].startswith("waiting (beam_current)")
    assert "nA is off the selected" in paused[0]["reason"]
    assert paused[0]["t_s"] > 0
    back = [e for e in changes if e["state"] == "running" and "cleared" in e["reason"]]
    assert len(back) == 1 and back[0]["t_s"] - paused[0]["t_s"] >= 840


def test_a_transient_raster_fault_is_retried_and_the_run_completes(quick_variant, tmp_path):
    report = _run(quick_variant(5), tmp_path / "r", "transient@slice=2,step=sims_raster,count=2")
    assert report.ok
    retries = [e for e in _events(tmp_path / "r") if e["event"] == "step_retried"]
    assert [(e["slice"], e["attempt"]) for e in retries] == [(2, 1), (2, 2)]


def test_a_failing_autofocus_is_skipped_and_flagged(quick_variant, tmp_path):
    report = _run(quick_variant(5), tmp_path / "r", "autofocus_failure@slice=0")
    assert report.ok
    skipped = [e for e in _events(tmp_path / "r") if e["event"] == "step_skipped"]
    assert [(e["slice"], e["kind"]) for e in skipped] == [(0, "autofocus")]


def test_an_interlock_aborts_and_leaves_the_beam_blanked(quick_variant, tmp_path):
    report = _run(quick_variant(5), tmp_path / "r", "interlock@slice=2")
    assert report.status == "aborted" and "safety interlock" in report.summary["reason"]
    state = json.loads((tmp_path / "r" / "state.json").read_text())
    assert state["state"] == "aborted" and state["beam_blanked"] is True


def test_a_full_disk_pauses_without_losing_a_slice_and_resume_finishes(
    quick_variant, same_datasets, tmp_path, monkeypatch
):
    recipe = quick_variant(6)
    whole = _run(recipe, tmp_path / "whole")
    real_write = slice_file.write_atomic

    def disk_full_at_slice_3(path, write):
        if path.name == "slice_000003.h5":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, write)

    monkeypatch.setattr(slice_file, "write_atomic", disk_full_at_slice_3)
    stopped = _run(recipe, tmp_path / "full")
    assert stopped.status == "paused" and "No space left on device" in stopped.summary["reason"]
    assert stopped.summary["slices_completed"] == 3
    assert sorted(p.name for p in (tmp_path / "full" / "slices").iterdir()) == [
        "slice_000000.h5",
        "slice_000001.h5",
        "slice_000002.h5",
    ]
    monkeypatch.setattr(slice_file, "write_atomic", real_write)
    resumed = resume_run(ResumeRequest(tmp_path / "full", progress=False))
    assert resumed.ok
    same_datasets(whole.layout.run_file, resumed.layout.run_file)
