"""What the interfaces declare beyond their type hints, for whatever is derived from them.

Why here and not in the transport: an interface method is written once, in
:mod:`fibsims.instrument.interfaces`, and the wire table, the client proxies, the codecs and
the test fakes are computed from it. What a signature cannot say is declared next to it with
these markers: whether a method only reads (:func:`read`: a retry simply runs it again) and
the range a number must lie in (:class:`Range`, inside ``Annotated``). Nothing here imports
anything beyond the standard library, so backends and value types can use it freely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

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


def wire_members(interface: type) -> dict[str, Any]:
    """The interface's methods a remote device offers, in declaration order: every abstract
    one, and every concrete one marked :func:`read` or :func:`action`."""
    members: dict[str, Any] = {}
    for cls in reversed(interface.__mro__):
        members.update(vars(cls))
    abstract = getattr(interface, "__abstractmethods__", frozenset())
    return {n: m for n, m in members.items() if n in abstract or is_read(m) is not None}


def delegate(
    interface: type[T], inner: T, around: Mapping[str, Callable[..., Any]] | None = None
) -> T:
    """``inner`` seen through ``interface``: every method of :func:`wire_members` passes
    through, except that one named in ``around`` is called as ``around[name](method, *args,
    **kwargs)`` with ``inner``'s bound method. Why: a wrapper that intercepts a few calls (the
    twin's fault injection, a recording test double) names only those, and a method added to
    the interface passes through with no edit. Other attributes of ``inner`` stay readable."""
    return _delegating(interface)(inner, dict(around or {}))  # type: ignore[no-any-return]


@cache
def _delegating(interface: type) -> type:
    def init(self: Any, inner: Any, around: dict[str, Callable[..., Any]]) -> None:
        self._inner, self._around = inner, around

    def extra(self: Any, name: str) -> Any:
        if name in ("_inner", "_around"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    namespace: dict[str, Any] = {"__init__": init, "__getattr__": extra}
    for name, member in wire_members(interface).items():
        namespace[name] = _passed(name, isinstance(member, property))
    return type(f"Delegating{interface.__name__}", (interface,), namespace)


def _passed(name: str, is_property: bool) -> Any:
    if is_property:
        return property(lambda self: getattr(self._inner, name))

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        method, hook = getattr(self._inner, name), self._around.get(name)
        return method(*args, **kwargs) if hook is None else hook(method, *args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
