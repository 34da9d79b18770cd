"""The progress model every display shares: slices, the running step, instrument time so far
and expected, and a wall-clock ETA from the session's own pace."""

from __future__ import annotations

import io
import json

import numpy as np
from rich.console import Console

from fibsims.data.event_lines import JsonEventLines, event_line
from fibsims.data.progress import ProgressBar
from fibsims.data.run_progress import (
    RunProgress,
    duration_text,
    instrument_time_text,
    step_text,
)
from fibsims.engine.events import (
    RunFinished,
    RunStarted,
    SliceCommitted,
    StepFinished,
    StepStarted,
)

START = RunStarted(
    t_s=100.0,
    recipe="demo",
    slices_planned=4,
    first_slice=1,
    instrument="sim",
    seed=1,
    expected_end_s=400.0,
)


def _commit(t_s: float, done: int) -> SliceCommitted:
    return SliceCommitted(
        t_s=t_s,
        slice=done - 1,
        face_z_um=0.1,
        duration_s=100.0,
        slices_completed=done,
        slices_planned=4,
    )


def test_the_eta_is_what_is_left_of_the_estimate_at_the_sessions_pace():
    progress = RunProgress()
    progress.apply(START.as_dict(), wall_s=1000.0)
    assert progress.finish_wall_s() is None, "no pace before the first commit"
    progress.apply(_commit(200.0, 2).as_dict(), wall_s=1010.0)  # 100 s instrument in 10 s wall
    assert progress.remaining_instrument_s() == 200.0
    assert progress.finish_wall_s() == 1030.0


def test_an_overrun_estimate_falls_back_on_the_pace_of_the_slices():
    progress = RunProgress()
    progress.apply(START.as_dict(), wall_s=0.0)
    progress.apply(_commit(250.0, 2).as_dict(), wall_s=150.0)
    progress.apply(_commit(450.0, 3).as_dict(), wall_s=350.0)  # past the expected 400 s
    assert progress.remaining_instrument_s() == 175.0  # 350 s for 2 slices, one left
    assert progress.finish_wall_s() == 350.0 + 175.0


def test_the_running_step_is_known_until_it_finishes():
    progress = RunProgress()
    progress.apply(START.as_dict())
    progress.apply(StepStarted(120.0, 1, 2, "se_image", step_name="overview").as_dict())
    assert step_text(progress.current_step) == 'slice 1 se_image "overview"'
    assert progress.snapshot()["current_step"]["name"] == "overview"
    progress.apply(StepFinished(130.0, 1, 2, "se_image", 120.0, 10.0).as_dict())
    assert progress.current_step is None
    assert progress.snapshot()["instrument_time_expected_s"] == 400.0


def test_an_old_sender_without_the_new_fields_still_folds():
    progress = RunProgress.from_dict({"recipe": "x", "slices_planned": 3, "unknown": 1})
    progress.apply({"event": "run_started", "t_s": 0.0, "slices_planned": 3, "first_slice": 0})
    assert progress.expected_end_s is None and progress.remaining_instrument_s() is None
    assert instrument_time_text(45.0, None, False) == "45 s"


def test_durations_read_as_people_say_them():
    assert duration_text(42) == "42 s"
    assert duration_text(12 * 60 + 10) == "12 min"
    assert duration_text(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert duration_text(-5) == "0 s"
    assert instrument_time_text(3600.0, 7200.0, True) == "1 h 00 min of >=2 h 00 min"


def test_the_bar_shows_slices_step_instrument_time_of_the_estimate_and_the_eta():
    stream = io.StringIO()
    clock = {"wall_s": 0.0}
    bar = ProgressBar(Console(file=stream, width=200), wall=lambda: clock["wall_s"])
    bar(START)
    bar(StepStarted(100.0, 1, 0, "mill"))
    assert bar.fields()["step"] == "slice 1 mill"
    assert bar.fields()["eta"] == "ETA after the first slice"
    clock["wall_s"] = 10.0
    bar(_commit(200.0, 2))
    fields = bar.fields()
    assert fields["instrument"] == "3 min of ~7 min"
    assert fields["eta"] == "ETA 20 s"
    bar(RunFinished(t_s=400.0, status="completed", slices_completed=4, slices_planned=4))
    assert "4/4 slices" in stream.getvalue()


def test_json_event_lines_lead_with_stable_keys_and_stay_strict_json():
    step = StepFinished(
        1.0, 2, 0, "mill", 0.0, 1.0, metadata={"drift": float("nan"), "n": np.float32(2.5)}
    )
    record = json.loads(event_line(step))
    assert list(record)[:3] == ["event", "t_s", "slice"]
    assert record["event"] == "step_finished" and record["slice"] == 2
    assert record["metadata"] == {"drift": None, "n": 2.5}
    assert json.loads(event_line(START))["slice"] is None


def test_a_reader_that_goes_away_stops_the_lines_not_the_run():
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    sink = JsonEventLines(Gone())
    sink(START)  # no exception reaches the engine
    sink(START)
    assert sink.stream is None
