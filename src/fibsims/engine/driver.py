"""Driving a plan function: send each message's result back in, throw each failure in.

Why throw rather than abandon: a plan cleans up with ordinary ``try/finally`` blocks that still
yield messages (blank the beam, move the stage home); a failure thrown into the generator runs
them through the runner like any other message before it propagates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any

from fibsims.engine.messages import Msg

PlanFn = Generator[Msg, Any, Any]


def drive(plan: PlanFn, handle: Callable[[Msg], Any]) -> Any:
    """Run ``plan`` to its end through ``handle`` and return what it returns."""
    reply: Any = None
    failure: BaseException | None = None
    try:
        while True:
            try:
                msg = plan.throw(failure) if failure is not None else plan.send(reply)
            except StopIteration as end:
                return end.value
            reply, failure = None, None
            try:
                reply = handle(msg)
            except BaseException as error:  # the plan's finally blocks get to run
                failure = error
    finally:
        with contextlib.suppress(BaseException):
            plan.close()
