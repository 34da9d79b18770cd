"""state.json: a step's start is a live view, renamed into place without fsync; every state
change, slice commit, the run's end and finalizing's writes are fsynced (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import fibsims.data.atomic as atomic
from fibsims.data.state_file import StateFile
from fibsims.engine.events import (
    Event,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepStarted,
)

DURABLE = 1 if sys.platform == "win32" else 2
"""fsyncs of a durable write: the file, then its folder (not on Windows: fibsims.data.atomic)."""


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """The file descriptors fsynced from now on (the fsyncs still happen)."""
    seen: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        seen.append(fd)
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", counted)
    return seen


def _state(tmp_path: Path) -> StateFile:
    owner = {"pid": os.getpid(), "pid_started": 0.0, "host": "here"}
    return StateFile(tmp_path / "state.json", slices_planned=3, slices_completed=0, owner=owner)


def _fsyncs_for(state: StateFile, event: Event, fsyncs: list[int]) -> int:
    before = len(fsyncs)
    state(event)
    return len(fsyncs) - before


def test_a_step_start_is_written_atomically_without_fsync(tmp_path, fsyncs):
    state = _state(tmp_path)
    assert _fsyncs_for(state, StepStarted(t_s=5.0, slice=0, position=1, kind="mill"), fsyncs) == 0
    written = json.loads((tmp_path / "state.json").read_text())
    assert written["current_step"]["kind"] == "mill", "status still names the running step"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no temporary left"


@pytest.mark.parametrize(
    "event",
    [
        RunStarted(t_s=0.0, recipe="r", slices_planned=3, first_slice=0, instrument="sim", seed=1),
        StateChanged(t_s=1.0, previous="idle", state="running"),
        SliceCommitted(
            t_s=9.0, slice=0, face_z_um=0.025, duration_s=9.0, slices_completed=1, slices_planned=3
        ),
        StateChanged(t_s=10.0, previous="running", state="paused", reason="free_disk"),
        RunFinished(t_s=11.0, status="paused", slices_completed=1, slices_planned=3),
    ],
    ids=lambda event: event.name(),
)
def test_state_changes_commits_and_the_run_s_end_are_fsynced(tmp_path, fsyncs, event):
    state = _state(tmp_path)
    assert _fsyncs_for(state, event, fsyncs) == DURABLE, "the file, then its folder"


def test_finalizing_s_writes_are_fsynced_after_a_step_start(tmp_path, fsyncs):
    state = _state(tmp_path)
    state(StepStarted(t_s=5.0, slice=0, position=1, kind="mill"))
    state.write(state="finalizing", outcome="completed")
    assert len(fsyncs) == DURABLE
    assert json.loads((tmp_path / "state.json").read_text())["state"] == "finalizing"
