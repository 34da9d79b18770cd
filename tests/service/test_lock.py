"""One process per run folder, and a refusal names who holds it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from fibsims.service.lock import RunLock, RunLocked, is_locked


def test_a_second_lock_on_the_folder_is_refused_naming_the_holder(tmp_path):
    with RunLock(tmp_path, "resume"):
        assert is_locked(tmp_path)
        with pytest.raises(RunLocked, match=rf"`fibsims resume`, process {os.getpid()}"):
            RunLock(tmp_path, "run").acquire()
    assert not is_locked(tmp_path)
    assert not (tmp_path / "owner.json").exists(), "the owner record goes with the lock"


def test_a_lock_dies_with_its_process(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from fibsims.service.lock import RunLock;"
            "lock = RunLock(Path(sys.argv[1]), 'run').acquire(); print('held', flush=True); "
            "time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=f"process {holder.pid}"):
            RunLock(tmp_path, "resume").acquire()
    finally:
        holder.kill()
        holder.wait(10)
    deadline = time.monotonic() + 5
    while is_locked(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    with RunLock(tmp_path, "resume"):  # a SIGKILLed holder leaves no stale lock
        pass
