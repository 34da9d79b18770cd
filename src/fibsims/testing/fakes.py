"""Fake devices derived from the interfaces: a test writes only the behaviour it needs.

Why derived: a hand-written fake restates every method of its interface, and every fake must
be edited when a method is added. Here :func:`fake_class` implements every method of
:func:`~fibsims.instrument.declare.wire_members` from the interface itself: a *setting* (a read
``x()`` paired with an action ``set_x(value)`` that returns None, such as a detector's
contrast) is kept in ``self.settings["x"]``, and any other method raises
``NotImplementedError`` naming it until a subclass, or :func:`fake`, supplies it.
:func:`recorded` counts and logs every call to a device and raises the failures a test queued.
"""

from __future__ import annotations

import inspect
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

from fibsims.instrument.declare import delegate, wire_members

T = TypeVar("T")


@cache
def fake_class(interface: type[T]) -> type[T]:
    """A base class implementing ``interface``; see the module docstring."""
    members = wire_members(interface)
    namespace: dict[str, Any] = {"__init__": _init}
    for name, member in members.items():
        returns = inspect.signature(member).return_annotation if callable(member) else ""
        if name.startswith("set_") and name[4:] in members and returns in (None, "None"):
            namespace[name] = _setter(name[4:])
            namespace[name[4:]] = _getter(name[4:])
        elif name not in namespace:
            namespace[name] = _missing(interface, name, isinstance(member, property))
    return cast(type[T], type(f"Fake{interface.__name__}", (interface,), namespace))


def fake(interface: type[T], /, settings: Mapping[str, Any] | None = None, **members: Any) -> T:
    """An instance of ``interface``: each of ``members`` is a callable taking the method's
    arguments, or a value the method returns; ``settings`` holds the settings' values."""
    properties = {n for n, m in wire_members(interface).items() if isinstance(m, property)}
    namespace: dict[str, Any] = {}
    for name, value in members.items():
        answer = _answer(value if callable(value) else (lambda *_a, _v=value, **_k: _v))
        namespace[name] = property(answer) if name in properties else answer
    kind = type(f"Fake{interface.__name__}", (fake_class(interface),), namespace)
    return cast(T, kind(settings))


def _init(self: Any, settings: Mapping[str, Any] | None = None) -> None:
    self.settings = dict(settings or {})


def _getter(name: str) -> Callable[[Any], Any]:
    return lambda self: self.settings[name]


def _setter(name: str) -> Callable[..., None]:
    def store(self: Any, *args: Any, **kwargs: Any) -> None:  # the value, by any name
        (self.settings[name],) = (*args, *kwargs.values())

    return store


def _answer(function: Callable[..., Any]) -> Callable[..., Any]:
    return lambda self, *args, **kwargs: function(*args, **kwargs)


def _missing(interface: type, name: str, is_property: bool) -> Any:
    def missing(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"this fake {interface.__name__} has no {name}; give it one")

    return property(missing) if is_property else missing


@dataclass
class Script:
    """Calls of recorded devices: ``calls`` counts them by wire name (``column.mill``),
    ``log`` lists them in order with the thread that made them, and ``fail`` queues the
    exceptions the next calls of a name raise (before the device runs)."""

    fail: dict[str, list[Exception]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str]] = field(default_factory=list)

    def enter(self, name: str) -> None:
        self.calls[name] += 1
        self.log.append((name, threading.current_thread().name))
        queued = self.fail.get(name)
        if queued:
            raise queued.pop(0)


def recorded(interface: type[T], inner: T, script: Script, device: str) -> T:
    """``inner`` with every call of a method of ``interface`` entered in ``script`` as
    ``device.method``; its other attributes stay readable through the wrapper."""

    def hook(name: str) -> Callable[..., Any]:
        def enter(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            script.enter(f"{device}.{name}")
            return method(*args, **kwargs)

        return enter

    members = wire_members(interface)
    around = {n: hook(n) for n, m in members.items() if not isinstance(m, property)}
    return delegate(interface, inner, around)
