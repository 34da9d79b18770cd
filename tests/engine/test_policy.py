"""Each fault class meets its policy: retried, skipped and flagged, paused, or aborted."""

from __future__ import annotations

from fibsims.engine.events import StepRetried, StepSkipped
from fibsims.engine.plan import compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.instrument.errors import SafetyInterlock, TransientInstrumentError


def _run(recipe, instrument, store, journal):
    events: list = []
    engine = RunEngine(compile_plan(recipe), instrument, store, journal, sinks=[events.append])
    return engine.run(), events


def test_a_transient_fault_is_retried_with_backoff_on_the_instrument_clock(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument(
        fail_on={"raster": {2, 3}}, error={"raster": TransientInstrumentError}
    )
    store = make_store()
    outcome, events = _run(recipe, instrument, store, journal)
    assert outcome.status is RunState.COMPLETED
    retries = [e for e in events if isinstance(e, StepRetried)]
    assert [(r.slice, r.attempt, r.wait_s) for r in retries] == [(1, 1, 5.0), (1, 2, 10.0)]
    assert instrument.calls.log.count("raster") == 6  # 4 slices + 2 failed tries
    assert len(store.records) == 4


def test_a_transient_fault_that_persists_pauses_after_the_last_attempt(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument(
        fail_on={"mill": {4, 5, 6}}, error={"mill": TransientInstrumentError}
    )
    outcome, events = _run(recipe, instrument, make_store(), journal)
    assert outcome.status is RunState.PAUSED
    assert "TransientInstrumentError during mill" in outcome.reason
    assert sum(isinstance(e, StepRetried) for e in events) == 2  # 3 attempts in all


def test_a_failed_optional_autofocus_is_skipped_and_flagged(
    recipe, make_instrument, make_store, journal
):
    instrument = make_instrument(fail_on={"autofocus": 1})
    store = make_store()
    outcome, events = _run(recipe, instrument, store, journal)
    assert outcome.status is RunState.COMPLETED
    (skipped,) = [e for e in events if isinstance(e, StepSkipped)]
    assert skipped.slice == 0 and skipped.kind == "autofocus"
    assert "injected fault on autofocus #1" in skipped.reason
    assert [s.kind for s in store.records[0].steps] == [
        "mill",
        "rocking_polish",
        "se_image",
        "sims_raster",
    ]


def test_a_safety_interlock_aborts_without_a_retry(recipe, make_instrument, make_store, journal):
    instrument = make_instrument(fail_on={"image": 2}, error={"image": SafetyInterlock})
    outcome, events = _run(recipe, instrument, make_store(), journal)
    assert outcome.status is RunState.ABORTED
    assert "safety interlock during se_image" in outcome.reason
    assert not any(isinstance(e, StepRetried) for e in events)
    assert instrument.column.is_blanked()


def test_a_hardware_fault_aborts_when_the_recipe_says_so(
    recipe, make_instrument, make_store, journal
):
    strict = recipe.model_copy(
        update={"on_error": recipe.on_error.model_copy(update={"on_hardware_fault": "abort"})}
    )
    outcome, _ = _run(strict, make_instrument(fail_on={"mill": 2}), make_store(), journal)
    assert outcome.status is RunState.ABORTED
    assert "HardwareFault during rocking_polish of slice 0" in outcome.reason
