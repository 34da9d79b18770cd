"""Finalizing, with real processes and real signals: kill -9 at random moments while
``fibsims run`` (or a ``fibsims resume`` that only finalizes) writes run.h5, and resume gives the
uninterrupted data; SIGTERM or one Ctrl-C lets finalizing complete (exit 0); two Ctrl-C stop at
once (exit 1, finalizing) and resume finishes; abort closes a run killed while finalizing."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
RNG_SEED = 20261129


def _until_finalizing(h, out: Path, process) -> bool:
    """Wait until state.json says finalizing; False if the run ended before that was seen."""
    return h.wait_until(h.state_is(out, "finalizing"), process, timeout_s=90, poll_s=0.001)


def _resume_to_the_end(h, out: Path) -> None:
    resumed = h.cli("resume", out, "--no-progress")
    h.assert_clean_output(resumed.stdout, resumed.stderr)
    if resumed.returncode == 2:  # the kill came after the journal recorded the end
        assert "completed; there is nothing to resume" in resumed.stderr, resumed.stderr
    else:
        assert resumed.returncode == 0, resumed.stderr[-1500:]


def test_kill_9_at_random_moments_while_fibsims_run_finalizes(h, recipe30, whole30, tmp_path, reap):
    rng = random.Random(RNG_SEED)
    landed = 0
    for trial in range(3):
        out = tmp_path / f"trial{trial}"
        argv = ("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress")
        process = reap(h.start_cli(*argv))
        if _until_finalizing(h, out, process):
            time.sleep(rng.uniform(0.0, 0.15))
            h.send(process, signal.SIGKILL)
        h.finish(process)
        status = h.run_status(out)
        assert status["state"] in {"interrupted", "completed"}, status
        if status["state"] == "interrupted":
            landed += 1
            assert "finalizing" in status["reason"], status["reason"]
            _resume_to_the_end(h, out)
        h.assert_completed_like(whole30, out)
    assert landed >= 2, "the kills must land while the run finalizes"


def test_resume_of_a_run_killed_while_finalizing_prints_its_report(
    h, killed_finalizing, whole30, tmp_path
):
    out = h.clone(killed_finalizing, tmp_path / "run")
    done = h.cli("resume", out, "--no-progress")
    h.assert_clean_output(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.startswith("completed: 30/30 slices"), done.stdout
    h.assert_completed_like(whole30, out)


@pytest.fixture(scope="module")
def killed_finalizing(h, recipe30, tmp_path_factory) -> Path:
    """recipe30 killed as soon as it began finalizing (every slice committed)."""
    out = tmp_path_factory.mktemp("killed") / "finalizing"
    process = h.start_cli("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress")
    try:
        assert _until_finalizing(h, out, process), "the run ended before it could be killed"
        h.send(process, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        h.finish(process)
    assert h.read_json(out / "state.json")["state"] == "finalizing"
    return out


def test_kill_9_at_random_moments_while_a_resume_finalizes(
    h, killed_finalizing, whole30, tmp_path, reap
):
    rng = random.Random(RNG_SEED + 1)
    for trial in range(3):
        out = h.clone(killed_finalizing, tmp_path / f"trial{trial}")
        process = reap(h.start_cli("resume", out, "--no-progress"))
        owner = out / "owner.json"
        assert h.wait_until(owner.exists, process, timeout_s=60, poll_s=0.001)
        time.sleep(rng.uniform(0.0, 0.4))
        h.send(process, signal.SIGKILL)
        h.finish(process)
        _resume_to_the_end(h, out)
        h.assert_completed_like(whole30, out)


@pytest.mark.parametrize(
    "signums",
    [(signal.SIGTERM,), (signal.SIGINT,)],
    ids=["sigterm", "one-ctrl-c"],
)
def test_one_signal_while_finalizing_keeps_finalizing_and_completes(
    h, recipe12, whole12, tmp_path, reap, signums
):
    out = tmp_path / "run"
    process = reap(h.start_cli("run", recipe12, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert _until_finalizing(h, out, process), "finalizing was not seen"
    time.sleep(0.02)
    for signum in signums:
        h.send(process, signum)
    stdout, stderr = h.finish(process)
    assert process.returncode == 0, stderr[-1500:]
    h.assert_clean_output(stdout, stderr)
    assert stdout.startswith("completed:"), stdout
    h.assert_completed_like(whole12, out)


def test_two_ctrl_c_while_finalizing_stop_at_once_and_resume_finishes(
    h, recipe30, whole30, tmp_path, reap
):
    """In the slow finalizing: a ``fibsims resume`` that only finalizes, stacking run.h5 from
    the slice files (a run's own finalizing completes the run.h5 it wrote as it went, in a
    fraction of a second: too short to land two signals in)."""
    out = tmp_path / "run"
    killer = reap(h.start_cli("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert _until_finalizing(h, out, killer), "finalizing was not seen"
    h.send(killer, signal.SIGKILL)
    h.finish(killer)
    if h.read_json(out / "state.json")["state"] != "finalizing":
        pytest.skip("the run completed before the kill landed")
    (out / "owner.json").unlink(missing_ok=True)
    process = reap(h.start_cli("resume", out, "--no-progress"))

    def stacking() -> bool:  # this process writes run.h5 (the killed one may have left its own)
        return any(out.glob(f"run.h5.{process.pid}-*.tmp"))

    assert h.wait_until(stacking, process, timeout_s=60, poll_s=0.001), "no run.h5 was written"
    h.send(process, signal.SIGINT)
    time.sleep(0.05)
    h.send(process, signal.SIGINT)
    stdout, stderr = h.finish(process)
    h.assert_clean_output(stdout, stderr)
    assert process.returncode == 1, (process.returncode, stderr[-1500:])
    assert "stopped" in stderr and "fibsims resume" in stderr, stderr
    assert h.read_json(out / "state.json")["state"] == "finalizing"
    _resume_to_the_end(h, out)
    h.assert_completed_like(whole30, out)


def test_abort_of_a_run_killed_while_finalizing_as_paused_finalizes_it_as_aborted(
    h, recipe30, tmp_path, reap
):
    out = tmp_path / "run"
    fault = "hardware_fault@slice=20,step=mill"
    argv = ("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress", "--fault", fault)
    process = reap(h.start_cli(*argv))
    assert _until_finalizing(h, out, process), "finalizing was not seen"
    h.send(process, signal.SIGKILL)
    h.finish(process)
    state = h.read_json(out / "state.json")
    assert state["state"] == "finalizing" and state["outcome"] == "paused", state
    aborted = h.cli("abort", out, "--json")
    assert aborted.returncode == 0, aborted.stderr
    h.assert_clean_output(aborted.stdout, aborted.stderr)
    assert h.json.loads(aborted.stdout)["state"] == "aborted"
    assert not (out / "slices").exists()
    assert (out / "run.h5").exists() and h.read_json(out / "summary.json")["status"] == "aborted"
    assert h.path_attrs(out / "run.h5", "/")["slices_completed"] == 20
    assert list(h.path_attrs(out / "run.h5", "/")["slices_missing"]) == []
    assert not list(out.rglob("*.tmp"))
