"""The run and step state machines accept exactly the edges of their tables."""

from __future__ import annotations

import itertools

import pytest

from fibsims.engine.states import (
    RUN_TRANSITIONS,
    STEP_TRANSITIONS,
    IllegalTransition,
    RunState,
    RunStateMachine,
    StepState,
    StepTracker,
)


def test_a_run_follows_the_happy_path_to_completed():
    machine = RunStateMachine()
    for state in (
        RunState.PREFLIGHT,
        RunState.RUNNING,
        RunState.PAUSED,
        RunState.RUNNING,
        RunState.COMPLETED,
    ):
        machine.transition(state)
    assert machine.state is RunState.COMPLETED
    assert machine.history[0] is RunState.IDLE and len(machine.history) == 6


@pytest.mark.parametrize(("source", "target"), list(itertools.product(RunState, RunState)))
def test_every_run_edge_is_allowed_only_if_the_table_has_it(source, target):
    machine = RunStateMachine(initial=source)
    if target in RUN_TRANSITIONS[source]:
        assert machine.transition(target) is source
        assert machine.state is target
    else:
        with pytest.raises(IllegalTransition) as info:
            machine.transition(target)
        assert source.value in str(info.value) and target.value in str(info.value)
        assert machine.state is source


def test_terminal_states_have_no_way_out():
    for state in (RunState.COMPLETED, RunState.ABORTED, RunState.FAILED):
        assert state.is_terminal and not RUN_TRANSITIONS[state]
    assert not RunState.PAUSED.is_terminal


def test_running_cannot_skip_back_to_idle_and_says_what_is_allowed():
    machine = RunStateMachine(initial=RunState.RUNNING)
    with pytest.raises(IllegalTransition, match="allowed: aborted, completed, failed, paused"):
        machine.transition(RunState.IDLE)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(StepState, StepState)))
def test_every_step_edge_is_allowed_only_if_the_table_has_it(source, target):
    tracker = StepTracker(1)
    tracker._states[0] = source  # put the step in the source state directly
    if target in STEP_TRANSITIONS[source]:
        tracker.transition(0, target)
        assert tracker.states == (target,)
    else:
        with pytest.raises(IllegalTransition):
            tracker.transition(0, target)


def test_a_step_cannot_finish_without_having_started():
    tracker = StepTracker(3)
    with pytest.raises(IllegalTransition, match="step 1"):
        tracker.transition(1, StepState.DONE)
