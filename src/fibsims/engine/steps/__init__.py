"""Step kinds: one plan function per kind, found by the recipe step's ``kind``.

A plan function takes the recipe's step (its validated model) and the :class:`SliceContext`,
yields messages (:mod:`fibsims.engine.messages`), receives their results, and returns a
:class:`StepOutput`. Adding a step kind to the engine is writing one such function and
decorating it with :func:`step_kind`: the runner drives it, the policy retries it, and the
estimate costs it by driving it against the instrument's cost model (a dry run), so nothing
else in the engine changes.

Conventions: change ``ctx.run`` (the run context) only once the step has succeeded, since a
failed attempt is retried from the start; blank the beam in a ``finally`` around anything that
unblanks it; yield ``Checkpoint()`` between the parts of anything that may take over a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fibsims.engine.context import SliceContext
from fibsims.engine.driver import PlanFn


@dataclass
class StepOutput:
    """What a step yields besides its kept products: the current it ran at and read-backs."""

    current_na: float
    metadata: dict[str, Any] = field(default_factory=dict)


PlanFunction = Callable[[Any, SliceContext], PlanFn]

PLANS: dict[str, PlanFunction] = {}


def step_kind(name: str) -> Callable[[PlanFunction], PlanFunction]:
    """Register ``function`` as the plan of the step kind ``name``."""

    def register(function: PlanFunction) -> PlanFunction:
        if name in PLANS:
            raise ValueError(f"step kind {name!r} already has a plan function")
        PLANS[name] = function
        return function

    return register


def plan_for(kind: str) -> PlanFunction:
    try:
        return PLANS[kind]
    except KeyError:
        raise KeyError(f"no plan function for step kind {kind!r}") from None


def load_builtin_steps() -> None:
    """Import the built-in kinds (each module registers itself)."""
    from fibsims.engine.steps import (  # noqa: F401
        autofocus,
        contrast,
        fiducial,
        imaging,
        mill,
        polish,
    )
