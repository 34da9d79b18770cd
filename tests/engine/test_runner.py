"""The run engine drives every slice through the instrument in order, stores before it
journals, and ends every run (completed, failed, aborted, paused) with the beam blanked."""

from __future__ import annotations

import pytest

from fibsims.engine.events import (
    EngineFault,
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepFinished,
    StepStarted,
)
from fibsims.engine.plan import compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.instrument.errors import HardwareFault, SafetyInterlock


def _engine(recipe, instrument, store, journal, events):
    return RunEngine(compile_plan(recipe), instrument, store, journal, sinks=[events.append])


def test_a_run_executes_every_slice_in_order_and_completes(
    recipe, make_instrument, make_store, journal
):
    instrument, store, events = make_instrument(), make_store(), []
    outcome = _engine(recipe, instrument, store, journal, events).run()
    assert outcome.status is RunState.COMPLETED and outcome.slices_completed == 4
    assert [r.index for r in store.records] == [0, 1, 2, 3]
    assert journal.committed_slices() == [0, 1, 2, 3]
    kinds = [s.kind for s in store.records[0].steps]
    assert kinds == ["mill", "rocking_polish", "autofocus", "se_image", "sims_raster"]
    assert [s.kind for s in store.records[1].steps] == [
        "mill",
        "rocking_polish",
        "se_image",
        "sims_raster",
    ]
    # two rocking angles: move, mill, move, mill, then back home
    assert instrument.calls.log[:6] == ["mill", "move", "mill", "move", "mill", "move"]


def test_events_come_in_lifecycle_order_with_instrument_timestamps(
    recipe, make_instrument, make_store, journal
):
    events = []
    _engine(recipe, make_instrument(), make_store(), journal, events).run()
    states = [e.state for e in events if isinstance(e, StateChanged)]
    assert states == ["preflight", "running", "completed"]
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    assert any(isinstance(e, RunStarted) for e in events)
    times = [e.t_s for e in events]
    assert times == sorted(times), "instrument time never runs backwards"
    commits = [e for e in events if isinstance(e, SliceCommitted)]
    assert [c.slices_completed for c in commits] == [1, 2, 3, 4]


def test_step_durations_come_from_the_instrument_clock(
    recipe, make_instrument, make_store, journal
):
    events = []
    _engine(recipe, make_instrument(), make_store(), journal, events).run()
    mills = [e for e in events if isinstance(e, StepFinished) and e.kind == "mill"]
    # the first mill switches 0.01 -> 15 nA (10 s) then mills (30 s)
    assert mills[0].duration_s == 40.0
    polish = next(e for e in events if isinstance(e, StepFinished) and e.kind == "rocking_polish")
    assert polish.duration_s == 10.0 + 2 * 30.0 + 3 * 5.0  # switch, two mills, three moves


def test_the_face_advances_one_slice_thickness_per_slice(
    recipe, make_instrument, make_store, journal
):
    store = make_store()
    _engine(recipe, make_instrument(), store, journal, []).run()
    faces = [r.face_z_um for r in store.records]
    assert faces == [0.025, 0.05, 0.075, 0.1]
    assert [int(r.images["se_image"].pixels[0, 0]) for r in store.records] == [25, 50, 75, 100]


def test_stage_moves_only_with_the_beam_blanked_and_the_run_ends_blanked(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument()
    _engine(recipe, instrument, make_store(), journal, []).run()
    assert instrument.stage.moves_with_beam_on == 0
    assert instrument.column.is_blanked()


def test_a_hardware_fault_pauses_the_run_and_keeps_every_acquired_slice(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument(fail_on={"raster": 3})
    store, events = make_store(), []
    outcome = _engine(recipe, instrument, store, journal, events).run()
    assert outcome.status is RunState.PAUSED
    assert "HardwareFault during sims_raster of slice 2" in outcome.reason
    assert [r.index for r in store.records] == [0, 1]
    assert journal.committed_slices() == [0, 1]
    assert instrument.column.is_blanked()
    assert events[-1].status == "paused" and events[-1].slices_completed == 2
    assert events[-1].beam_blanked is True
    # the half-done slice 2 is set aside, not thrown away
    (aside,) = store.set_aside_records
    assert aside.index == 2 and "se_image" in aside.images


def test_a_store_failure_pauses_and_is_never_journalled_as_committed(
    recipe, make_instrument, make_store, journal
):
    store = make_store(fail_on_slice=2)
    outcome = _engine(recipe, make_instrument(), store, journal, []).run()
    assert outcome.status is RunState.PAUSED and "disk full" in outcome.reason
    assert journal.committed_slices() == [0, 1]


def test_an_abort_request_stops_at_the_next_safe_point(
    recipe, make_instrument, make_store, journal
):
    events: list = []
    engine = RunEngine(
        compile_plan(recipe), make_instrument(), make_store(), journal, sinks=[events.append]
    )

    def abort_after_first_commit(event):
        if isinstance(event, SliceCommitted) and event.slice == 0:
            engine.request_abort("operator abort")

    engine.sinks.append(abort_after_first_commit)
    outcome = engine.run()
    assert outcome.status is RunState.ABORTED and outcome.reason == "operator abort"
    assert journal.committed_slices() == [0]


def test_a_pause_request_mid_slice_stops_at_the_end_of_the_running_step(
    recipe, make_instrument, make_store, journal
):
    store = make_store()
    instrument = make_instrument()
    engine = RunEngine(compile_plan(recipe), instrument, store, journal)

    def pause_during_slice_1(event):
        if isinstance(event, StepStarted) and event.slice == 1 and event.kind == "mill":
            engine.request_pause("operator pause")

    engine.sinks.append(pause_during_slice_1)
    outcome = engine.run()
    assert outcome.status is RunState.PAUSED and engine.state is RunState.PAUSED
    assert journal.committed_slices() == [0]
    (aside,) = store.set_aside_records
    assert [s.kind for s in aside.steps] == ["mill"], "the mill ran to its end, then stopped"
    assert instrument.calls.log.count("image") == 1, "nothing ran after the mill"
    assert instrument.column.is_blanked()


def test_a_pause_during_a_rocking_polish_stops_between_angles_with_the_stage_home(
    recipe, make_instrument, make_store, journal
):
    store = make_store()
    instrument = make_instrument()
    engine = RunEngine(compile_plan(recipe), instrument, store, journal)

    def pause_during_polish(event):
        if isinstance(event, StepStarted) and event.slice == 1 and event.kind == "rocking_polish":
            engine.request_pause("operator pause")

    engine.sinks.append(pause_during_polish)
    outcome = engine.run()
    assert outcome.status is RunState.PAUSED
    (aside,) = store.set_aside_records
    assert [s.kind for s in aside.steps] == ["mill"], "the polish stopped part way"
    slice_0_mills, slice_1_mill = 1 + 2, 1  # slice 0: its mill and both angles
    polish_mills = instrument.calls.log.count("mill") - slice_0_mills - slice_1_mill
    assert polish_mills == 1, "one angle polished, then the pause took effect"
    assert instrument.stage.position().rotation_deg == 0.0, "the stage went home"
    assert instrument.column.is_blanked()


def test_stop_now_inside_the_commit_lets_the_commit_finish(
    recipe, make_instrument, make_store, journal
):
    store = make_store()
    engine = RunEngine(compile_plan(recipe), make_instrument(), store, journal)
    original = store.commit

    def write_then_interrupt(seal):
        receipt = original(seal)
        if seal.index == 1:
            engine.stop_now("second Ctrl-C")
        return receipt

    store.commit = write_then_interrupt
    outcome = engine.run()
    assert outcome.status is RunState.PAUSED and outcome.reason == "second Ctrl-C"
    assert journal.committed_slices() == [0, 1], "the slice being stored was committed"
    assert [r.index for r in store.records] == [0, 1]


def test_preflight_refuses_a_current_that_is_not_on_the_ladder(
    recipe, make_instrument, make_store, journal
):
    bad = recipe.model_copy(deep=True)
    bad.slice[0] = bad.slice[0].model_copy(update={"current_na": 30.0})
    instrument = make_instrument()
    outcome = _engine(bad, instrument, make_store(), journal, []).run()
    assert outcome.status is RunState.FAILED
    assert "slice.0.mill.current_na: 30 nA is not on the column's current ladder" in outcome.reason
    assert "15 nA, 60 nA" in outcome.reason
    assert instrument.calls.log == [], "no beam or stage action before preflight passes"


def test_the_max_hours_limit_pauses_resumably_with_a_reason(
    recipe, make_instrument, make_store, journal
):
    limited = recipe.model_copy(
        update={"limits": recipe.limits.model_copy(update={"max_hours": 0.05})}
    )
    outcome = _engine(limited, make_instrument(), make_store(), journal, []).run()
    assert outcome.status is RunState.PAUSED
    assert "limits.max_hours (0.05 h" in outcome.reason and "--max-hours" in outcome.reason
    assert 0 < outcome.slices_completed < 4


def test_the_max_hours_limit_is_checked_before_every_step_not_only_between_slices(
    recipe, make_instrument, make_store, journal
):
    store = make_store()
    instrument = make_instrument()
    engine = RunEngine(compile_plan(recipe), instrument, store, journal, max_hours=1.0)

    def jump_past_the_limit(event):
        if isinstance(event, StepStarted) and event.slice == 1 and event.kind == "mill":
            instrument.clock.sleep(3600.0)

    engine.sinks.append(jump_past_the_limit)
    outcome = engine.run()
    assert outcome.status is RunState.PAUSED and "limits.max_hours (1 h" in outcome.reason
    (aside,) = store.set_aside_records
    assert [s.kind for s in aside.steps] == ["mill"], "stopped at the next step, mid-slice"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (HardwareFault, RunState.PAUSED),
        (SafetyInterlock, RunState.ABORTED),
        (ZeroDivisionError, RunState.FAILED),
    ],
)
def test_a_fault_between_steps_ends_the_run_as_its_kind_says_with_the_beam_blanked(
    recipe, make_instrument, make_store, journal, error, expected
):
    """A lost link or a stage read-back that fails between steps is outside every step's
    policy; it must still pause (hardware), abort (interlock) or fail (a bug), never escape."""
    instrument = make_instrument()
    events: list = []
    engine = RunEngine(
        compile_plan(recipe), instrument, make_store(), journal, sinks=[events.append]
    )
    real_position = instrument.stage.position
    calls = {"n": 0}

    def position_fails_once_slice_1_is_done():
        calls["n"] += 1
        if calls["n"] == 8:
            raise error("read-back lost")
        return real_position()

    instrument.stage.position = position_fails_once_slice_1_is_done
    outcome = engine.run()
    assert outcome.status is expected and "read-back lost" in outcome.reason
    assert instrument.column.is_blanked()
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert finished[-1].beam_blanked is True
    faults = [e for e in events if isinstance(e, EngineFault)]
    assert bool(faults) == (expected is RunState.FAILED), "a traceback only for the unforeseen"
    if faults:
        assert "ZeroDivisionError" in faults[0].traceback


def test_a_hardware_fault_while_preflight_sets_the_voltage_pauses_the_run(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument()

    def voltage_fails(voltage_kv):
        raise HardwareFault("high-voltage supply did not answer")

    instrument.column.set_voltage_kv = voltage_fails
    events: list = []
    outcome = _engine(recipe, instrument, make_store(), journal, events).run()
    assert outcome.status is RunState.PAUSED and "high-voltage supply" in outcome.reason
    assert [e.state for e in events if isinstance(e, StateChanged)] == ["preflight", "paused"]
    assert instrument.column.is_blanked()


def test_a_sink_that_fails_while_an_error_is_reported_never_lets_it_escape(
    recipe, make_instrument, make_store, journal
):
    def log_on_a_full_disk(event):
        if isinstance(event, (EngineFault, RunFinished)):
            raise OSError(28, "No space left on device")

    instrument = make_instrument()
    instrument.column.mill = lambda pattern: 1 / 0
    engine = RunEngine(
        compile_plan(recipe), instrument, make_store(), journal, sinks=[log_on_a_full_disk]
    )
    outcome = engine.run()  # returns: neither error escapes
    assert outcome.status is RunState.FAILED and "ZeroDivisionError" in outcome.reason
    assert instrument.column.is_blanked()
