"""Run and step states, with the transition table that refuses illegal moves.

The table is data, not scattered ``if`` statements, so that what the engine may do is readable
in one place and testable exhaustively. Terminal states have no way out: a finished run is
continued by ``resume`` starting a fresh engine from the journal, never by reviving one.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    IDLE = "idle"
    PREFLIGHT = "preflight"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({RunState.COMPLETED, RunState.ABORTED, RunState.FAILED})

RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.IDLE: frozenset({RunState.PREFLIGHT, RunState.FAILED, RunState.ABORTED}),
    RunState.PREFLIGHT: frozenset(
        {RunState.RUNNING, RunState.PAUSED, RunState.FAILED, RunState.ABORTED}
    ),
    RunState.RUNNING: frozenset(
        {RunState.PAUSED, RunState.COMPLETED, RunState.FAILED, RunState.ABORTED}
    ),
    RunState.PAUSED: frozenset({RunState.RUNNING, RunState.FAILED, RunState.ABORTED}),
    RunState.COMPLETED: frozenset(),
    RunState.ABORTED: frozenset(),
    RunState.FAILED: frozenset(),
}


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


STEP_TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    StepState.PENDING: frozenset({StepState.RUNNING, StepState.SKIPPED}),
    StepState.RUNNING: frozenset({StepState.DONE, StepState.FAILED, StepState.SKIPPED}),
    StepState.DONE: frozenset(),
    StepState.FAILED: frozenset(),
    StepState.SKIPPED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """An attempt to move a state machine along an edge its table does not have."""

    def __init__(self, what: str, current: StrEnum, target: StrEnum, allowed: frozenset) -> None:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (terminal state)"
        super().__init__(
            f"{what} cannot go from {current.value!r} to {target.value!r}; allowed: {options}"
        )
        self.current = current
        self.target = target


class RunStateMachine:
    """The run's state, changed only along the edges of :data:`RUN_TRANSITIONS`."""

    def __init__(self, initial: RunState = RunState.IDLE) -> None:
        self._state = initial
        self.history: list[RunState] = [initial]

    @property
    def state(self) -> RunState:
        return self._state

    def can(self, target: RunState) -> bool:
        return target in RUN_TRANSITIONS[self._state]

    def transition(self, target: RunState) -> RunState:
        """Move to ``target``; raise :class:`IllegalTransition` if the table forbids it."""
        allowed = RUN_TRANSITIONS[self._state]
        if target not in allowed:
            raise IllegalTransition("run", self._state, target, allowed)
        previous = self._state
        self._state = target
        self.history.append(target)
        return previous


class StepTracker:
    """Per-slice step states, one entry per planned step, reset for every slice."""

    def __init__(self, n_steps: int) -> None:
        self._states = [StepState.PENDING] * n_steps

    @property
    def states(self) -> tuple[StepState, ...]:
        return tuple(self._states)

    def transition(self, index: int, target: StepState) -> None:
        current = self._states[index]
        allowed = STEP_TRANSITIONS[current]
        if target not in allowed:
            raise IllegalTransition(f"step {index}", current, target, allowed)
        self._states[index] = target
