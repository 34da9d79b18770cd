"""Whatever ends a run, even an exception nobody foresaw raised by the instrument mid-step
with the beam on, the beam is blanked, the run ends ``failed`` with the traceback in log.jsonl
(an ``engine_fault`` event), and the CLI prints a message and exits 1 without a traceback."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from fibsims.data.slice_file import SliceFileStore
from fibsims.service.status import run_status
from fibsims_twin.column import TwinColumn
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.stage import TwinStage
from fibsims_twin.tof import TwinTofSpectrometer

# (class, method, exception, the call that raises): every call of the method before it works
FAULTS = {
    "tof-zero-division-beam-on": (TwinTofSpectrometer, "acquire_raster", ZeroDivisionError, 3),
    "mill-overflow-beam-on": (TwinColumn, "mill", OverflowError, 5),
    "se-image-value-error-beam-on": (TwinSEDetector, "acquire_image", ValueError, 2),
    "stage-zero-division-in-polish": (TwinStage, "move_to", ZeroDivisionError, 4),
    "current-key-error": (TwinColumn, "set_current_na", KeyError, 7),
    "autofocus-type-error": (TwinColumn, "autofocus", TypeError, 1),
}


@pytest.fixture
def columns(monkeypatch) -> list[TwinColumn]:
    """Every twin column the run used, to read the real beam state after it ended."""
    seen: list[TwinColumn] = []
    for name in ("blank", "unblank"):
        original = getattr(TwinColumn, name)

        def spy(self, _original=original) -> None:
            if self not in seen:
                seen.append(self)
            _original(self)

        monkeypatch.setattr(TwinColumn, name, spy)
    return seen


def _raise_on_call(monkeypatch, cls, name: str, error: type[Exception], nth: int) -> None:
    original = getattr(cls, name)
    calls = [0]

    def faulty(self, *args: Any, **kw: Any) -> Any:
        calls[0] += 1
        if calls[0] == nth:
            raise error("injected by the test: nobody foresaw this")
        return original(self, *args, **kw)

    monkeypatch.setattr(cls, name, faulty)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_an_unforeseen_instrument_exception_fails_the_run_with_the_beam_blanked(
    h, recipe4, tmp_path, monkeypatch, columns, fault
):
    cls, name, error, nth = FAULTS[fault]
    _raise_on_call(monkeypatch, cls, name, error, nth)
    out = tmp_path / "run"
    report = h.run_inproc(recipe4, out)
    assert report.status == "failed", report.summary
    assert error.__name__ in report.summary["reason"]
    assert columns and all(column.is_blanked() for column in columns), "the beam is on"
    state = h.read_json(out / "state.json")
    assert state["state"] == "failed" and state["beam_blanked"] is True
    faults = [e for e in h.log_events(out) if e["event"] == "engine_fault"]
    assert len(faults) == 1 and error.__name__ in faults[0]["traceback"]
    assert "Traceback" in faults[0]["traceback"]
    assert run_status(out)["state"] == "failed"


def test_a_failed_run_resumes_to_the_uninterrupted_data(h, recipe4, whole4, tmp_path, monkeypatch):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        _raise_on_call(patch, TwinTofSpectrometer, "acquire_raster", ZeroDivisionError, 2)
        assert h.run_inproc(recipe4, out).status == "failed"
    assert h.committed(out) == [0]
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


def test_an_unforeseen_exception_storing_a_slice_fails_the_run_with_the_beam_blanked(
    h, recipe4, tmp_path, monkeypatch, columns
):
    original = SliceFileStore.write_slice
    calls = [0]

    def faulty(self, record):
        calls[0] += 1
        if calls[0] == 2:
            raise ZeroDivisionError("injected into the slice store")
        return original(self, record)

    monkeypatch.setattr(SliceFileStore, "write_slice", faulty)
    out = tmp_path / "run"
    report = h.run_inproc(recipe4, out)
    assert report.status == "failed"
    assert all(column.is_blanked() for column in columns)
    assert h.read_json(out / "state.json")["beam_blanked"] is True
    assert h.committed(out) == [0]


# -- through the CLI --------------------------------------------------------------------------
DRIVER = textwrap.dedent(
    """
    import sys
    from {module} import {cls} as target
    original = target.{name}
    calls = [0]
    def faulty(self, *args, **kw):
        calls[0] += 1
        if calls[0] == {nth}:
            raise {error}("injected by the test: nobody foresaw this")
        return original(self, *args, **kw)
    target.{name} = faulty
    sys.argv = ["fibsims", *sys.argv[1:]]
    from fibsims.cli.entry import main
    main()
    """
)


@pytest.mark.parametrize("fault", ["tof-zero-division-beam-on", "mill-overflow-beam-on"])
def test_the_cli_reports_an_unforeseen_exception_and_exits_1_without_a_traceback(
    h, recipe4, tmp_path, fault
):
    cls, name, error, nth = FAULTS[fault]
    script = DRIVER.format(
        module=cls.__module__, cls=cls.__name__, name=name, nth=nth, error=error.__name__
    )
    out = tmp_path / "run"
    done = h.run_script(script, "run", recipe4, "--out", out, "--no-progress")
    assert done.returncode == 1, done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    assert "failed" in done.stdout and error.__name__ in done.stdout + done.stderr
    state = json.loads((out / "state.json").read_text())
    assert state["state"] == "failed" and state["beam_blanked"] is True
    assert any(e["event"] == "engine_fault" for e in h.log_events(out))


def test_an_unforeseen_exception_writing_run_h5_leaves_a_finalizing_run_resume_finishes(
    h, recipe4, whole4, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    with monkeypatch.context() as patch:

        def broken(*args: Any, **kw: Any) -> None:
            raise TypeError("injected into run.h5's writer")

        # both ways run.h5 is made (as the run goes, and from the slice files) end here
        patch.setattr("fibsims.data.run_file.RunFileBuilder.close", broken)
        try:
            report = h.run_inproc(recipe4, out)
        except Exception as error:  # the service may report it as a fault of its own
            assert "run.h5" in str(error) or "injected" in str(error)
        else:
            assert report.status != "completed", "completed without a run.h5"
    state = h.read_json(out / "state.json")
    assert state["state"] != "completed" and state["beam_blanked"] is True
    assert run_status(out)["state"] != "completed"
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)
