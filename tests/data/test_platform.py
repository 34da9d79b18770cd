"""fibsims.data.platform: each helper's POSIX path for real, its Windows path with the platform
faked (``WINDOWS`` set, SIGUSR1 deleted, a SIGBREAK put in), and the call sites that use them:
on Windows nothing opens a folder, nothing needs SIGUSR1, and nothing calls ``os.kill``."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from fibsims.data import platform
from fibsims.data.atomic import write_json_atomic
from fibsims.service import signals
from fibsims.service.process import ProcessId

FAKE_SIGBREAK = signal.SIGUSR2
"""Stands in for Windows's SIGBREAK, which Linux lacks: a signal nothing else here uses."""
REAL_KILL = os.kill
"""For the test's own clean-up, while the faked platform forbids ``os.kill``."""


@pytest.fixture
def windows(monkeypatch) -> None:
    """This process as the platform module sees it on Windows: the flag set, no SIGUSR1, a
    SIGBREAK; and every os.open of a folder, and every os.kill, an error."""
    monkeypatch.setattr(platform, "WINDOWS", True)
    monkeypatch.delattr(signal, "SIGUSR1")
    monkeypatch.setattr(signal, "SIGBREAK", FAKE_SIGBREAK, raising=False)
    real_open = os.open

    def open_no_folder(path, flags, *args, **kw):
        assert not Path(path).is_dir(), f"os.open of the folder {path} (impossible on Windows)"
        return real_open(path, flags, *args, **kw)

    def no_kill(pid, sig):
        raise AssertionError(f"os.kill({pid}, {sig}) (on Windows: a CTRL_C_EVENT or a hard kill)")

    monkeypatch.setattr(os, "open", open_no_folder)
    monkeypatch.setattr(os, "kill", no_kill)


@pytest.fixture
def fsynced(monkeypatch) -> list[int]:
    """The st_mode of every descriptor fsynced from now on (the fsyncs still happen)."""
    modes: list[int] = []
    real = os.fsync

    def spy(fd: int) -> None:
        modes.append(os.fstat(fd).st_mode)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return modes


# -- fsync_directory --------------------------------------------------------------------------
def test_fsync_directory_on_posix_fsyncs_the_folder_itself(tmp_path, fsynced):
    platform.fsync_directory(tmp_path)
    assert len(fsynced) == 1 and stat.S_ISDIR(fsynced[0])


def test_fsync_directory_on_posix_refuses_a_file_given_for_a_folder(tmp_path):
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    with pytest.raises(NotADirectoryError):
        platform.fsync_directory(file)


def test_fsync_directory_on_windows_opens_and_fsyncs_nothing(tmp_path, windows, fsynced):
    platform.fsync_directory(tmp_path)
    assert fsynced == []


def test_a_durable_write_on_posix_fsyncs_the_file_then_its_folder(tmp_path, fsynced):
    write_json_atomic(tmp_path / "state.json", {"state": "running"})
    assert [stat.S_ISDIR(mode) for mode in fsynced] == [False, True]


def test_a_durable_write_on_windows_fsyncs_the_file_and_never_opens_the_folder(
    tmp_path, windows, fsynced
):
    write_json_atomic(tmp_path / "state.json", {"state": "running"})
    assert [stat.S_ISDIR(mode) for mode in fsynced] == [False]
    assert (tmp_path / "state.json").read_text(encoding="utf-8").startswith("{")


# -- signals ----------------------------------------------------------------------------------
def test_posix_signals_are_sigusr1_to_abort_and_sigterm_to_pause():
    assert platform.abort_signal() is signal.SIGUSR1
    assert platform.pause_signals() == (signal.SIGTERM,)
    assert platform.stop_signals() == (signal.SIGINT, signal.SIGTERM)


def test_windows_signals_have_no_abort_signal_and_pause_on_ctrl_break(windows):
    assert platform.abort_signal() is None
    assert platform.pause_signals() == (signal.SIGTERM, FAKE_SIGBREAK)
    assert platform.stop_signals() == (signal.SIGINT, signal.SIGTERM, FAKE_SIGBREAK)


def test_a_run_on_windows_installs_no_abort_handler_and_pauses_on_ctrl_break(windows):
    usr1 = 10  # SIGUSR1's number on Linux, which the faked platform no longer names
    before = signal.getsignal(usr1)
    with signals.run_control() as control:
        assert signal.getsignal(signal.SIGINT) == control.on_interrupt
        assert signal.getsignal(FAKE_SIGBREAK) == control.on_terminate
        assert signal.getsignal(usr1) is before, "no SIGUSR1 handler where there is no SIGUSR1"
    assert signal.getsignal(FAKE_SIGBREAK) is not control.on_terminate, "restored on exit"


def test_ctrl_break_before_a_run_starts_stops_it_naming_the_signal():
    control = signals.RunControl()
    with pytest.raises(signals.Interrupted, match=r"terminated \(SIGTERM\) before"):
        control.on_terminate(signal.SIGTERM, None)
    with pytest.raises(signals.Interrupted, match=r"terminated \(SIGUSR2\) before"):
        control.on_terminate(FAKE_SIGBREAK, None)  # SIGBREAK's own name on Windows


# -- process checks ---------------------------------------------------------------------------
def test_whether_a_run_process_lives_is_asked_without_os_kill_on_windows(windows):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        identity = ProcessId(child.pid, psutil.Process(child.pid).create_time(), "")
        assert identity.alive()
    finally:
        REAL_KILL(child.pid, signal.SIGKILL)
        child.wait(10)
    assert not identity.alive()
