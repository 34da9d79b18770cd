"""Suspenders hold the run while a watched condition is bad: waiting ones go on by themselves
when it clears, pausing ones stop the run resumably."""

from __future__ import annotations

from fibsims.engine.events import StateChanged
from fibsims.engine.plan import compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.engine.suspenders import (
    BeamCurrentWatch,
    FreeDiskWatch,
    PressureWatch,
    SaturationWatch,
    from_recipe,
)


def _run(recipe, instrument, store, journal, suspenders):
    events: list = []
    engine = RunEngine(
        compile_plan(recipe),
        instrument,
        store,
        journal,
        sinks=[events.append],
        suspenders=suspenders,
    )
    return engine.run(), events


def test_a_beam_current_drop_waits_and_resumes_by_itself_when_it_returns(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument()
    instrument.column.current_factor = lambda t: 0.3 if 200 <= t < 1000 else 1.0
    watch = BeamCurrentWatch("beam_current", action="wait", poll_s=60, max_wait_s=3600)
    store = make_store()
    outcome, events = _run(recipe, instrument, store, journal, [watch])
    assert outcome.status is RunState.COMPLETED and len(store.records) == 4
    changes = [(e.state, e.reason) for e in events if isinstance(e, StateChanged)]
    paused = [r for s, r in changes if s == "paused"]
    resumed = [r for s, r in changes if s == "running" and "cleared" in r]
    assert len(paused) == 1 and "beam current" in paused[0] and "off the selected" in paused[0]
    assert len(resumed) == 1 and "beam_current cleared after" in resumed[0]
    assert store.set_aside_records == [], "waiting in place loses nothing"


def test_a_condition_that_never_clears_pauses_after_max_wait(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument()
    instrument.vacuum.pressure = lambda t: 5e-2 if t >= 100 else 1e-4
    watch = PressureWatch("chamber_pressure", action="wait", poll_s=60, max_wait_s=600, max_pa=1e-3)
    outcome, _ = _run(recipe, instrument, make_store(), journal, [watch])
    assert outcome.status is RunState.PAUSED
    assert "chamber_pressure did not clear within 600 s" in outcome.reason
    assert instrument.column.is_blanked()


def test_a_pausing_suspender_stops_the_run_at_once(recipe, make_instrument, make_store, journal):
    instrument = make_instrument()
    instrument.vacuum.pressure = lambda t: 5e-2 if t >= 100 else 1e-4
    watch = PressureWatch("chamber_pressure", action="pause", max_pa=1e-3)
    outcome, _ = _run(recipe, instrument, make_store(), journal, [watch])
    assert outcome.status is RunState.PAUSED
    assert "suspended by chamber_pressure: chamber pressure 0.05 Pa is above 0.001 Pa" in (
        outcome.reason
    )


def test_detector_saturation_pauses_after_the_raster(recipe, make_instrument, make_store, journal):
    instrument = make_instrument()
    instrument.tof.saturated_fraction = 0.75
    store = make_store()
    outcome, _ = _run(
        recipe,
        instrument,
        store,
        journal,
        [SaturationWatch("detector_saturation", max_line_fraction=0.5)],
    )
    assert outcome.status is RunState.PAUSED and "75% of the raster lines" in outcome.reason
    assert store.records == [] and store.set_aside_records[0].rasters, "the raster is kept"


def test_too_little_free_disk_for_the_remaining_slices_pauses(
    recipe, make_instrument, make_store, journal
):
    watch = FreeDiskWatch("free_disk", report=lambda: (10_000, 4_000), margin=1.2)
    outcome, _ = _run(recipe, make_instrument(), make_store(), journal, [watch])
    assert outcome.status is RunState.PAUSED
    assert "remaining 4 slices and the run file need" in outcome.reason


def test_the_recipe_enables_every_suspender_by_default(recipe):
    names = [s.name for s in from_recipe(recipe.suspenders, disk=lambda: (1, 0))]
    assert names == ["beam_current", "chamber_pressure", "detector_saturation", "free_disk"]
