"""Inputs past what a run can honour are refused (exit 2, with the numbers) before the
instrument moves; the time limit stops a run paused and ``resume --max-hours`` continues it; a
long acquisition honours an abort between its parts."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from fibsims.engine.preflight import PreflightError
from fibsims.recipe import RecipeError
from fibsims.service.runs import RunRequest, start_run
from fibsims_twin.column import TwinColumn
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.stage import TwinStage
from fibsims_twin.tof import TwinTofSpectrometer

FINISHES_S = 10.0
"""A generous bound for "is refused at once": it must not start estimating for minutes."""

MOVES = {
    TwinColumn: ("mill", "unblank", "set_voltage_kv", "set_current_na"),
    TwinStage: ("move_to",),
    TwinSEDetector: ("acquire_image",),
    TwinTofSpectrometer: ("acquire_raster",),
}


@pytest.fixture
def moves(monkeypatch) -> Counter:
    """Counts every call that would move the instrument or put the beam on the sample."""
    seen: Counter = Counter()
    for cls, names in MOVES.items():
        for name in names:
            original = getattr(cls, name)

            def spy(self, *args, _original=original, _name=name, **kw):
                seen[_name] += 1
                return _original(self, *args, **kw)

            monkeypatch.setattr(cls, name, spy)
    return seen


def _refused(h, recipe: Path, out: Path, error: type[Exception]) -> str:
    started = time.monotonic()
    with pytest.raises(error) as refused:
        start_run(RunRequest(recipe, out=out, progress=False, tell=h.quiet))
    assert time.monotonic() - started < FINISHES_S
    assert not out.exists(), "a refused run leaves no folder"
    return str(refused.value)


def test_a_billion_sims_frames_is_refused_with_the_numbers_before_anything_moves(
    h, recipes, tmp_path, moves
):
    recipe = h.write_recipe(recipes / "frames.yaml", 6, ("frames: 4,", "frames: 1000000000,"))
    message = _refused(h, recipe, tmp_path / "run", RecipeError)
    assert "1000000000" in message and "10000" in message
    assert not moves


def test_a_billion_sims_frames_exits_2_with_the_field_and_both_numbers(h, recipes, tmp_path):
    recipe = h.write_recipe(recipes / "frames.yaml", 6, ("frames: 4,", "frames: 1000000000,"))
    done = h.cli("run", recipe, "--out", tmp_path / "run", "--no-progress")
    assert done.returncode == 2, done.stderr
    text = done.stdout + done.stderr
    assert "sims_raster.frames" in text and "1000000000" in text and "10000" in text
    h.assert_clean_output(done.stdout, done.stderr)
    assert not (tmp_path / "run").exists()


HUGE = (("resolution: [192, 144]", "resolution: [8192, 8192]"),)


def test_a_100000_slice_8192_squared_run_is_refused_by_preflight_with_the_numbers(
    h, recipes, tmp_path, moves
):
    recipe = h.write_recipe(recipes / "huge.yaml", 100_000, *HUGE)
    message = _refused(h, recipe, tmp_path / "run", PreflightError)
    assert not moves, f"the instrument moved before the refusal: {dict(moves)}"
    assert "limits.max_hours" in message and "100000 slices" in message
    assert "more than the limit of 2 h" in message
    assert "disk" in message and "GiB" in message


def test_the_cli_refuses_the_huge_run_with_exit_2_and_no_folder(h, recipes, tmp_path):
    recipe = h.write_recipe(recipes / "huge.yaml", 100_000, *HUGE)
    done = h.cli("run", recipe, "--out", tmp_path / "run", "--no-progress", timeout=60)
    assert done.returncode == 2, done.stderr
    assert "preflight failed" in done.stderr and "100000 slices" in done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    assert not (tmp_path / "run").exists()


LONG_FRAMES = {
    "se-image": ("resolution: [192, 144], dwell_us: 3", "resolution: [8192, 8192], dwell_us: 10"),
    "sims-raster": (
        "resolution: [64, 48], dwell_us: 50",
        "resolution: [2048, 2048], dwell_us: 200",
    ),
}


@pytest.mark.parametrize("step", sorted(LONG_FRAMES))
def test_a_frame_longer_than_600_s_is_refused(h, recipes, tmp_path, moves, step):
    recipe = h.write_recipe(
        recipes / f"long-{step}.yaml", 2, LONG_FRAMES[step], ("max_hours: 2", "max_hours: 500")
    )
    message = _refused(h, recipe, tmp_path / "run", PreflightError)
    assert "one frame takes" in message and "at most 600 s" in message
    assert step.replace("-", "_") in message
    assert not moves


# -- limits.max_hours --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited(h, recipes) -> Path:
    """quick.yaml under a 0.25 h (900 s) limit; it needs about 842 s without incidents."""
    return h.write_recipe(recipes / "limited.yaml", 6, ("max_hours: 2", "max_hours: 0.25"))


def _max_hours_stop(h, recipe: Path, out: Path, fault: str):
    report = h.run_inproc(recipe, out, fault)
    assert report.status == "paused", report.summary
    assert "limits.max_hours" in report.summary["reason"]
    assert "--max-hours" in report.summary["reason"]
    state = h.read_json(out / "state.json")
    assert state["state"] == "paused" and state["beam_blanked"] is True
    return report


def test_a_run_stopped_by_its_time_limit_resumes_only_with_a_larger_max_hours(h, limited, tmp_path):
    out = tmp_path / "run"
    _max_hours_stop(h, limited, out, "beam_current_drop@slice=1,duration_s=300")
    stopped_at = len(h.committed(out))
    assert 2 <= stopped_at < 6
    before = h.committed(out)
    with pytest.raises(PreflightError, match="--max-hours"):
        h.resume_inproc(out)
    assert h.committed(out) == before
    report = h.resume_inproc(out, max_hours=1)
    assert report.ok, report.summary
    assert h.committed(out) == list(range(6))
    assert h.read_json(out / "state.json")["state"] == "completed"


def test_a_time_limit_reached_during_a_hold_is_not_forgotten_by_resume(h, limited, tmp_path):
    """The 900 s hold of slice 2 ran the instrument past the limit; resume restarts the
    instrument clock at the end of slice 1, and must not complete the run as if the limit
    had never been reached: without --max-hours it is refused like any other."""
    out = tmp_path / "run"
    _max_hours_stop(h, limited, out, "beam_current_drop@slice=2,duration_s=900")
    with pytest.raises(PreflightError, match="--max-hours"):
        h.resume_inproc(out)


def test_the_cli_resumes_a_time_limited_run_with_max_hours(h, limited, tmp_path):
    out = tmp_path / "run"
    _max_hours_stop(h, limited, out, "beam_current_drop@slice=1,duration_s=300")
    refused = h.cli("resume", out, "--no-progress")
    assert refused.returncode == 2, refused.stderr
    assert "--max-hours" in refused.stderr
    h.assert_clean_output(refused.stdout, refused.stderr)
    done = h.cli("resume", out, "--max-hours", "1", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert h.committed(out) == list(range(6))
    sessions = [e for e in h.Journal(out / "journal.jsonl").entries() if "first_slice" in e]
    assert sessions[-1].get("max_hours") == 1


# -- a long acquisition ------------------------------------------------------------------------
LONG_SIMS = ("frames: 4,", "frames: 1200,")  # 64 x 64 x 50 us x 1200 frames: about 246 s


@pytest.mark.parametrize("how", ["abort-request-file", "sigusr1"])
def test_an_abort_during_a_long_sims_acquisition_lands_between_its_parts(
    h, recipes, tmp_path, monkeypatch, how
):
    longer = ("max_hours: 2", "max_hours: 5")
    recipe = h.write_recipe(recipes / "long-sims.yaml", 3, LONG_SIMS, longer)
    out = tmp_path / "run"
    calls: list[int] = []
    fired: set[str] = set()
    original = TwinTofSpectrometer.acquire_raster

    def acquire(self, request):
        calls.append(request.scan.frames)
        if sum(calls) > 1200 and how not in fired:  # the first part of slice 1's raster
            fired.add(how)
            if how == "sigusr1":
                os.kill(os.getpid(), signal.SIGUSR1)
            else:
                (out / "abort.request").write_text(json.dumps({"requested_utc": time.time()}))
        return original(self, request)

    monkeypatch.setattr(TwinTofSpectrometer, "acquire_raster", acquire)
    report = h.run_inproc(recipe, out)
    parts_of_slice_0 = _parts_summing_to(calls, 1200)
    assert len(parts_of_slice_0) > 1, f"the acquisition was not split: {calls}"
    assert report.status == "aborted", report.summary
    assert len(calls) == len(parts_of_slice_0) + 1, f"parts ran after the abort: {calls}"
    state = h.read_json(out / "state.json")
    assert state["state"] == "aborted" and state["beam_blanked"] is True
    assert h.committed(out) == [0]
    assert not (out / "slices").exists() and (out / "run.h5").exists()


def _parts_summing_to(calls: list[int], frames: int) -> list[int]:
    total, parts = 0, []
    for part in calls:
        parts.append(part)
        total += part
        if total >= frames:
            break
    return parts
