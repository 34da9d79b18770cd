"""A process is its pid and its start time: a reused pid is never taken for the run's."""

from __future__ import annotations

import os
import subprocess
import sys

from fibsims.service.process import ProcessId


def test_a_live_process_is_recognised_by_pid_and_start_time():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import psutil

        identity = ProcessId(child.pid, psutil.Process(child.pid).create_time(), "")
        assert identity.alive()
    finally:
        child.kill()
        child.wait(10)
    assert not identity.alive(), "a dead process is not alive"


def test_a_reused_pid_with_another_start_time_is_not_the_run():
    parent = os.getppid()  # alive, but not the process that recorded the run
    assert not ProcessId(parent, 1_000_000.0, "").alive()


def test_records_without_a_usable_identity_read_as_none():
    for record in ({}, {"pid": "x"}, {"pid": True}, {"pid": -4}, [], None):
        assert ProcessId.from_record(record) is None
    legacy = ProcessId.from_record({"pid": os.getppid()})
    assert legacy is not None and legacy.alive(), "a pid without start time: the pid decides"
    assert ProcessId.from_record(ProcessId.current().as_record()) == ProcessId.current()


def test_this_process_never_counts_as_the_live_run():
    assert not ProcessId.current().alive()
