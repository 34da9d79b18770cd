"""Real processes, real signals: Ctrl-C pauses with the beam blanked and resume finishes; a
SIGKILL at any moment (even mid-write) loses nothing and resume gives the uninterrupted data."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fibsims.engine.journal import Journal

pytestmark = pytest.mark.slow
QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"


def _fibsims(*args: str) -> list[str]:
    return [sys.executable, "-m", "fibsims", *map(str, args)]


def _start(recipe: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        _fibsims("run", recipe, "--out", out, "--seed", 1, "--no-progress"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_commits(out: Path, count: int, process: subprocess.Popen, timeout_s=30.0) -> None:
    deadline = time.monotonic() + timeout_s
    journal = Journal(out / "journal.jsonl")
    while len(journal.committed_slices()) < count:
        assert process.poll() is None, "the run ended before it was interrupted"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.002)


def _run_to_end(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_fibsims(*args), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def slow_recipe(tmp_path_factory) -> Path:
    """30 slices, with big enough images that a slice takes a visible moment."""
    text = QUICK.read_text().replace("slices: 6}", "slices: 30}")
    text = text.replace("resolution: [192, 144]", "resolution: [768, 576]")
    path = tmp_path_factory.mktemp("recipes") / "quick30.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def long_recipe(slow_recipe: Path) -> Path:
    """300 slices: a run that an abort (a process that takes a second to start on a loaded
    machine) always reaches long before its end."""
    path = slow_recipe.with_name("quick300.yaml")
    text = slow_recipe.read_text().replace("slices: 30}", "slices: 300}")
    path.write_text(text.replace("max_hours: 2}", "max_hours: 30}"))
    return path


@pytest.fixture(scope="module")
def uninterrupted(slow_recipe, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "whole"
    done = _run_to_end("run", slow_recipe, "--out", out, "--seed", 1, "--no-progress")
    assert done.returncode == 0, done.stderr
    return out


def test_ctrl_c_pauses_with_the_beam_blanked_and_resume_finishes(
    slow_recipe, uninterrupted, same_datasets, tmp_path
):
    out = tmp_path / "run"
    process = _start(slow_recipe, out)
    _wait_for_commits(out, 3, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "paused" in stdout and "pausing at the end of the running step" in stderr
    status = json.loads(_run_to_end("status", out, "--json").stdout)
    assert status["state"] == "paused" and status["beam_blanked"] is True
    assert "SIGINT" in status["reason"] and 3 <= status["slices_completed"] < 30
    assert status["next"] == f"fibsims resume {out}"
    resumed = _run_to_end("resume", out, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    same_datasets(uninterrupted / "run.h5", out / "run.h5")


def test_sigterm_pauses_like_ctrl_c(slow_recipe, tmp_path):
    out = tmp_path / "run"
    process = _start(slow_recipe, out)
    _wait_for_commits(out, 2, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    status = json.loads(_run_to_end("status", out, "--json").stdout)
    assert status["state"] == "paused" and "SIGTERM" in status["reason"]


def test_ten_kills_at_random_moments_each_resume_to_the_uninterrupted_data(
    slow_recipe, uninterrupted, same_datasets, tmp_path
):
    rng = random.Random(20261126)
    interrupted = 0
    for trial in range(10):
        out = tmp_path / f"trial{trial}"
        process = _start(slow_recipe, out)
        _wait_for_commits(out, 1, process)
        time.sleep(rng.uniform(0.0, 0.5))
        process.kill()
        process.communicate(timeout=30)
        status = json.loads(_run_to_end("status", out, "--json").stdout)
        assert status["state"] in {"interrupted", "completed"}, status
        if status["state"] == "interrupted":
            interrupted += 1
            resumed = _run_to_end("resume", out, "--no-progress")
            assert resumed.returncode == 0, f"trial {trial}: {resumed.stderr}"
        committed = Journal(out / "journal.jsonl").committed_slices()
        assert committed == list(range(30)), f"trial {trial}: every slice exactly once"
        same_datasets(uninterrupted / "run.h5", out / "run.h5")
    assert interrupted >= 8, "the kills must land while the run is going"


def test_abort_of_a_live_run_stops_it_cleanly_at_the_next_safe_point(long_recipe, tmp_path):
    out = tmp_path / "run"
    process = _start(long_recipe, out)
    _wait_for_commits(out, 2, process)
    aborted = _run_to_end("abort", out, "--json")
    assert aborted.returncode == 0, aborted.stderr
    status = json.loads(aborted.stdout)
    assert status["state"] == "aborted" and status["beam_blanked"] is True
    process.communicate(timeout=60)
    assert process.returncode == 1
    refused = _run_to_end("resume", out)
    assert refused.returncode == 2 and "aborted" in refused.stderr


def test_a_run_with_the_loops_on_killed_and_resumed_repeats_the_uninterrupted_data(
    slow_recipe, same_datasets, tmp_path
):
    """Drift correction and thickness control on (a fiducial): the run context each slice
    commits, and the twin's sample state, carry the loops across a SIGKILL."""
    text = slow_recipe.read_text().replace("current_pa: 800", "current_pa: 300")
    loops = tmp_path / "loops.yaml"
    loops.write_text(text + "fiducial: {current_na: 4}\n")
    whole = tmp_path / "whole"
    assert _run_to_end("run", loops, "--out", whole, "--seed", 1, "--no-progress").returncode == 0
    out = tmp_path / "killed"
    process = _start(loops, out)
    _wait_for_commits(out, 4, process)
    time.sleep(random.Random(9).uniform(0.0, 0.3))
    process.kill()
    process.communicate(timeout=30)
    resumed = _run_to_end("resume", out, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert Journal(out / "journal.jsonl").committed_slices() == list(range(30))
    same_datasets(whole / "run.h5", out / "run.h5")
