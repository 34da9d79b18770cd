"""A state.json whose pid now belongs to a live process that is not the run (a reboot, a pid
reused): ``status`` says interrupted, ``resume`` works, and ``abort`` never signals that
process (it uses a request file and the run folder's lock, never a pid)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fibsims.service.status import abort_run, run_status

STRANGER = textwrap.dedent(
    """
    import signal, sys, time
    log = open(sys.argv[1], "a")
    def note(signum, frame):
        log.write(f"{signum}\\n"); log.flush()
    for name in ("SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), note)
    print("ready", flush=True)
    time.sleep(120)
    """
)


class Stranger:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def started(self) -> float:
        return psutil.Process(self.pid).create_time()

    def signals(self) -> list[int]:
        return [int(x) for x in self.log.read_text().split()] if self.log.exists() else []

    def untouched(self) -> None:
        assert self.process.poll() is None, "the stranger process was killed"
        assert self.signals() == [], f"the stranger process got signals {self.signals()}"


@pytest.fixture
def stranger(tmp_path) -> Iterator[Stranger]:
    """A live process that is not a fibsims run, noting every signal it receives."""
    log = tmp_path / "stranger-signals.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", STRANGER, str(log)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield Stranger(process, log)
    finally:
        process.kill()
        process.communicate(timeout=10)


def _owned_by(h, paused4: Path, to: Path, pid: int, started: float | None) -> Path:
    """A copy of paused4 as a process killed while running left it, naming ``pid``."""
    folder = h.clone(paused4, to)
    lines = (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "journal.jsonl").write_bytes(b"".join(lines[:-1]))  # no session_ended
    state = json.loads((folder / "state.json").read_text())
    state.update(state="running", pid=pid, host=os.uname().nodename)
    if started is None:
        state.pop("pid_started", None)
    else:
        state["pid_started"] = started
    state.pop("outcome", None)
    (folder / "state.json").write_text(json.dumps(state))
    return folder


def test_a_reused_pid_reads_as_interrupted_and_resume_completes(
    h, paused4, whole4, tmp_path, stranger
):
    folder = _owned_by(h, paused4, tmp_path / "run", stranger.pid, stranger.started - 1000.0)
    status = run_status(folder)
    assert status["state"] == "interrupted" and status["process_alive"] is False
    assert status["next"] == f"fibsims resume {folder}"
    assert h.resume_inproc(folder).ok
    h.assert_completed_like(whole4, folder)
    stranger.untouched()


@pytest.mark.parametrize("who", ["parent", "init"])
def test_a_pid_of_another_live_process_with_a_wrong_start_reads_as_interrupted(
    h, paused4, tmp_path, who
):
    pid = os.getppid() if who == "parent" else 1
    started = psutil.Process(pid).create_time() + 12345.0
    folder = _owned_by(h, paused4, tmp_path / who, pid, started)
    assert run_status(folder)["state"] == "interrupted"
    done = h.cli("status", folder, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == "interrupted"


@pytest.mark.parametrize("start", ["wrong-start", "its-real-start", "no-start-recorded"])
def test_abort_never_signals_the_process_state_json_names(h, paused4, tmp_path, stranger, start):
    started = {
        "wrong-start": stranger.started - 1000.0,
        "its-real-start": stranger.started,
        "no-start-recorded": None,
    }[start]
    folder = _owned_by(h, paused4, tmp_path / "run", stranger.pid, started)
    status = abort_run(folder, wait_s=5.0)
    assert status["state"] == "aborted"
    assert not (folder / "slices").exists() and (folder / "run.h5").exists()
    stranger.untouched()


def test_the_cli_abort_never_signals_the_process_state_json_names(h, paused4, tmp_path, stranger):
    folder = _owned_by(h, paused4, tmp_path / "run", stranger.pid, stranger.started)
    done = h.cli("abort", folder, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "aborted"
    stranger.untouched()


def test_resume_of_a_run_whose_pid_looks_alive_goes_by_the_lock(
    h, paused4, whole4, tmp_path, stranger
):
    """state.json names a live process with its real start time, but nobody holds the run's
    lock: the run is not going, so resume continues it (the lock is the fact)."""
    folder = _owned_by(h, paused4, tmp_path / "run", stranger.pid, stranger.started)
    assert h.resume_inproc(folder).ok
    h.assert_completed_like(whole4, folder)
    stranger.untouched()
