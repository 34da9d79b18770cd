"""Finalizing, in-process: "completed" is recorded (journal ``session_ended``, state.json,
summary) only once run.h5 is durable and verified; a kill at any step of finalizing leaves a run
that ``resume`` finishes (and ``abort`` closes) without losing a slice; Ctrl-C, SIGTERM and
SIGUSR1 while finalizing do what the signal table promises."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fibsims.service.finalize as finalize_module
from fibsims.data import run_file
from fibsims.data.run_file import RunFileError
from fibsims.engine.journal import Journal
from fibsims.service.finalize import FinalizeFailed
from fibsims.service.folder import RunFolderError
from fibsims.service.signals import Interrupted
from fibsims.service.status import abort_run, run_status


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (no except Exception catches it)."""


# -- where a kill can land while finalizing ----------------------------------------------------
def _before_run_h5(patch: pytest.MonkeyPatch) -> None:
    def killed(*args: Any, **kw: Any) -> None:
        raise Killed

    patch.setattr(finalize_module, "put_run_file", killed)


def _after_run_h5(patch: pytest.MonkeyPatch) -> None:
    real = finalize_module.put_run_file

    def killed(*args: Any, **kw: Any) -> None:
        real(*args, **kw)
        raise Killed

    patch.setattr(finalize_module, "put_run_file", killed)


def _live_run_h5_not_renamed(patch: pytest.MonkeyPatch) -> None:
    """run.h5 written as the run went is complete and verified, still under its temporary
    name (a real kill leaves it there for the next session to delete)."""
    real = run_file.verify

    def killed(*args: Any, **kw: Any) -> None:
        real(*args, **kw)
        raise Killed

    patch.setattr(run_file, "verify", killed)


def _before_sims_h5(patch: pytest.MonkeyPatch) -> None:
    def killed(*args: Any, **kw: Any) -> None:
        raise Killed

    patch.setattr(finalize_module, "put_sims_file", killed)


def _mid_slice_removal(patch: pytest.MonkeyPatch) -> None:
    def killed(path: Path, ignore_errors: bool = False) -> None:
        files = sorted(Path(path).glob("slice_*.h5"))
        for file in files[: len(files) // 2 + 1]:
            file.unlink()
        raise Killed

    patch.setattr(finalize_module.shutil, "rmtree", killed)


def _after_slice_removal(patch: pytest.MonkeyPatch) -> None:
    real = finalize_module.shutil.rmtree

    def killed(path: Path, ignore_errors: bool = False) -> None:
        real(path, ignore_errors=ignore_errors)
        raise Killed

    patch.setattr(finalize_module.shutil, "rmtree", killed)


def _journal_append(after: bool) -> Callable[[pytest.MonkeyPatch], None]:
    def install(patch: pytest.MonkeyPatch) -> None:
        class KilledJournal(Journal):
            def append(self, entry: dict[str, Any]) -> None:
                if entry.get("entry") == "session_ended" and not after:
                    raise Killed
                super().append(entry)
                if entry.get("entry") == "session_ended":
                    raise Killed

        patch.setattr(finalize_module, "Journal", KilledJournal)

    return install


def _writing_summary(patch: pytest.MonkeyPatch) -> None:
    import fibsims.service.session as session_module

    real = session_module.write_json_atomic

    def killed(target: Path, payload: Any) -> None:
        if Path(target).name == "summary.json":
            raise Killed
        real(target, payload)

    patch.setattr(session_module, "write_json_atomic", killed)


KILL_POINTS = {
    "1-before-run-h5": _before_run_h5,
    "1a-live-run-h5-not-renamed": _live_run_h5_not_renamed,
    "2-after-run-h5": _after_run_h5,
    "2a-before-sims-h5": _before_sims_h5,
    "3-mid-slice-removal": _mid_slice_removal,
    "4-after-slice-removal": _after_slice_removal,
    "5-writing-summary": _writing_summary,
    "6-before-session-end": _journal_append(after=False),
    "7-after-session-end": _journal_append(after=True),
}


def _killed_while_finalizing(h, recipe: Path, out: Path, point: str, *faults: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        KILL_POINTS[point](patch)
        with pytest.raises(Killed):
            h.run_inproc(recipe, out, *faults)


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_a_kill_anywhere_in_finalizing_a_completed_run_is_finished_by_resume(
    h, recipe4, whole4, tmp_path, point
):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, point)
    ended = h.read_json(out / "state.json")
    if point != "7-after-session-end":
        assert ended["state"] == "finalizing" and ended["outcome"] == "completed"
        assert run_status(out)["state"] == "interrupted"
        assert h.resume_inproc(out).ok
    else:  # the journal already says completed: that is the fact resume and status read
        with pytest.raises(RunFolderError, match="completed"):
            h.resume_inproc(out)
    h.assert_completed_like(whole4, out, state_file=point != "7-after-session-end")


@pytest.mark.parametrize("point", sorted(KILL_POINTS)[:-1])
def test_abort_after_a_kill_in_finalizing_a_completed_run_loses_no_slice(
    h, recipe4, whole4, tmp_path, point
):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, point)
    abort_run(out)
    attrs = h.path_attrs(out / "run.h5", "/")
    assert list(attrs["slices_missing"]) == [], f"slices lost: {list(attrs['slices_missing'])}"
    reference, data = h.read_datasets(whole4 / "run.h5"), h.read_datasets(out / "run.h5")
    assert reference.keys() == data.keys()
    for name in reference:
        assert h.same_value(reference[name], data[name]), f"dataset {name} differs"


@pytest.mark.parametrize("point", ["1-before-run-h5", "2-after-run-h5", "5-writing-summary"])
def test_abort_of_a_run_interrupted_while_finalizing_as_paused_finalizes_it_as_aborted(
    h, recipe4, paused4, tmp_path, point
):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, point, "hardware_fault@slice=3,step=mill")
    assert h.read_json(out / "state.json")["outcome"] == "paused"
    status = abort_run(out)
    assert status["state"] == "aborted"
    assert h.read_json(out / "state.json")["state"] == "aborted"
    assert h.read_json(out / "summary.json")["status"] == "aborted"
    assert not (out / "slices").exists()
    assert h.path_attrs(out / "run.h5", "/")["status"] == "aborted"
    reference, data = h.read_datasets(paused4 / "run.h5"), h.read_datasets(out / "run.h5")
    for name in reference:
        assert h.same_value(reference[name], data[name]), f"dataset {name} differs"


def test_a_torn_run_h5_temporary_left_by_a_kill_is_removed_when_resume_finishes(
    h, recipe4, whole4, tmp_path
):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, "1-before-run-h5")
    (out / f"run.h5.{os.getpid()}-0badc0de.tmp").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 512)
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


def test_torn_temporaries_left_by_a_kill_are_removed_when_abort_finishes(h, recipe4, tmp_path):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, "1-before-run-h5", "hardware_fault@slice=3,step=mill")
    (out / f"run.h5.{os.getpid()}-0badc0de.tmp").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 512)
    (out / f"state.json.{os.getpid()}-0badc0de.tmp").write_text('{"state": "fina')
    assert abort_run(out)["state"] == "aborted"
    assert not [p.name for p in out.rglob("*.tmp")]


# -- completed only after run.h5 is verified ---------------------------------------------------
@pytest.fixture
def order(monkeypatch) -> Iterator[list[str]]:
    """Records, in order, run.h5 becoming verified and every record of the outcome."""
    seen: list[str] = []
    real_verify = run_file.verify

    def verify(path, slices, *rest):
        real_verify(path, slices, *rest)
        seen.append("run.h5 verified")

    monkeypatch.setattr(run_file, "verify", verify)
    real_append = Journal.append

    def append(self, entry):
        real_append(self, entry)
        if entry.get("entry") == "session_ended":
            seen.append(f"journal {entry['status']}")

    monkeypatch.setattr(Journal, "append", append)
    real_write = finalize_module.write_json_atomic

    def write(target, payload, **options):  # options: durable (False for a step's start)
        real_write(target, payload, **options)
        if isinstance(payload, dict) and payload.get("state") == "completed":
            seen.append("state completed")

    monkeypatch.setattr("fibsims.data.state_file.write_json_atomic", write)
    yield seen


def test_completed_is_recorded_only_after_run_h5_is_verified(h, recipe4, tmp_path, order):
    assert h.run_inproc(recipe4, tmp_path / "run").ok
    assert order == ["run.h5 verified", "journal completed", "state completed"], order


@pytest.mark.parametrize("how", ["run", "resume-finalize-only"])
def test_a_run_h5_that_fails_verification_is_never_completed(
    h, recipe4, whole4, tmp_path, monkeypatch, how
):
    out = tmp_path / "run"
    if how == "resume-finalize-only":
        _killed_while_finalizing(h, recipe4, out, "1-before-run-h5")

    def fails(*args: Any, **kw: Any) -> None:
        raise RunFileError("run.h5: se_image/data of slice 2 reads back changed")

    with monkeypatch.context() as patch:
        patch.setattr(run_file, "verify", fails)
        with pytest.raises(FinalizeFailed, match="reads back changed"):
            if how == "run":
                h.run_inproc(recipe4, out)
            else:
                h.resume_inproc(out)
    assert [e for e in Journal(out / "journal.jsonl").entries() if "status" in e] == []
    assert h.read_json(out / "state.json")["state"] == "finalizing"
    assert not (out / "summary.json").exists() or (
        h.read_json(out / "summary.json")["status"] != "completed"
    )
    assert run_status(out)["state"] != "completed"
    assert (out / "slices").is_dir() and len(list((out / "slices").glob("*.h5"))) == 4
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


# -- signals while finalizing ------------------------------------------------------------------
def _signals_in_run_h5_writer(patch: pytest.MonkeyPatch, *signums: int) -> None:
    real = finalize_module.put_run_file

    def put_run_file(*args: Any, **kw: Any) -> Any:
        for signum in signums:
            os.kill(os.getpid(), signum)
        return real(*args, **kw)

    patch.setattr(finalize_module, "put_run_file", put_run_file)


@pytest.mark.parametrize(
    "signums",
    [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGUSR1,), (signal.SIGTERM, signal.SIGTERM)],
    ids=["one-ctrl-c", "sigterm", "sigusr1", "two-sigterms"],
)
def test_one_signal_while_finalizing_a_completed_run_lets_it_complete(
    h, recipe4, whole4, tmp_path, signums
):
    out = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:
        _signals_in_run_h5_writer(patch, *signums)
        assert h.run_inproc(recipe4, out).ok
    h.assert_completed_like(whole4, out)


def test_two_ctrl_c_while_finalizing_stop_at_once_and_resume_finishes(h, recipe4, whole4, tmp_path):
    out = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:
        _signals_in_run_h5_writer(patch, signal.SIGINT, signal.SIGINT)
        with pytest.raises(Interrupted):
            h.run_inproc(recipe4, out)
    state = h.read_json(out / "state.json")
    assert state["state"] == "finalizing" and state["beam_blanked"] is True
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


def test_sigusr1_while_finalizing_a_paused_run_aborts_it_once_written(h, recipe4, tmp_path):
    """signals.py: SIGUSR1 while finalizing means "abort once written (unless completed)"."""
    out = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:
        _signals_in_run_h5_writer(patch, signal.SIGUSR1)
        report = h.run_inproc(recipe4, out, "hardware_fault@slice=3,step=mill")
    assert report.status == "aborted", report.status
    assert h.read_json(out / "state.json")["state"] == "aborted"
    assert not (out / "slices").exists()


def test_the_summary_keeps_every_committed_slice_when_finalizing_is_redone(h, recipe4, tmp_path):
    out = tmp_path / "run"
    _killed_while_finalizing(h, recipe4, out, "5-writing-summary")
    assert h.resume_inproc(out).ok
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["slices_completed"] == 4
    assert summary["slices_missing"] == []
