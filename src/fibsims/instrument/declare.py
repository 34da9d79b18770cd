"""What the interfaces declare beyond their type hints, for whatever is derived from them.

Why here and not in the transport: an interface method is written once, in
:mod:`fibsims.instrument.interfaces`, and the wire table, the client proxies, the codecs and
the test fakes are computed from it. What a signature cannot say is declared next to it with
these markers: whether a method only reads (:func:`read`: a retry simply runs it again) and
the range a number must lie in (:class:`Range`, inside ``Annotated``). Nothing here imports
anything beyond the standard library, so backends and value types can use it freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

READ = "__fibsims_read__"
"""The attribute :func:`read` and :func:`action` set on a function: True for a read."""


def read(function: F) -> F:
    """Mark an interface method as an idempotent read: it changes nothing and takes no
    instrument time, so a retried call runs it again. Also puts a concrete (non-abstract)
    method with a default on the wire."""
    setattr(function, READ, True)
    return function


def action(function: F) -> F:
    """Mark a concrete interface method as a wire action (abstract methods are actions unless
    marked :func:`read`): its reply is cached by call id so a retry never repeats it."""
    setattr(function, READ, False)
    return function


def is_read(function: Any) -> bool | None:
    """True for a read, False for a declared action, None when unmarked."""
    target = function.fget if isinstance(function, property) else function
    return getattr(target, READ, None)


@dataclass(frozen=True)
class Range:
    """The interval a number must lie in; ``None`` leaves that side open."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None


Seconds = Annotated[float, Range(ge=0)]
"""A duration: never negative."""

Level = Annotated[float, Range(ge=0, le=1)]
"""A detector setting (contrast, brightness), 0 to 1 as vendors expose it."""

Positive = Annotated[int, Range(gt=0)]
"""A count of pixels or frames: at least one."""
