"""Find instrument backends by name through the ``fibsims.instruments`` entry-point group.

The core never imports a backend: the twin (``sim``) registers itself exactly as a vendor
bridge would, so swapping the twin for hardware changes a name, not the code.

A backend's entry point is a callable ``(options: InstrumentOptions) -> Instrument``.

A backend may also register, under the same name in the ``fibsims.cost_models`` group, a callable
``(options: InstrumentOptions) -> CostView | None``: its cost model, capabilities and the stage
position it would open at, without opening its devices. ``fibsims estimate`` uses it when present
(opening the twin builds its phantom and imports its physics, many times the estimate's own
work); it returns None when the options need the instrument itself (e.g. a restored sample).

A name that is an address (it contains ``://``, e.g. ``tcp://host:5555``) is not looked up: it
opens a session on the instrument server there (:mod:`fibsims.instrument.transport`), which
serves whichever backend it wraps over the documented protocol (docs/protocol.md).

A name with commas is a composition (:mod:`fibsims.instrument.composition`): a base backend
and, per device, the backend that provides it instead, e.g. ``openfibsem,tof=sim``. Each part is
opened by this same function, so a part may be an address too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from fibsims.instrument.capabilities import Capabilities
from fibsims.instrument.composition import is_composition, open_composition, parse_composition
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import CostModel, Instrument
from fibsims.instrument.types import StagePosition

if TYPE_CHECKING:
    from fibsims.instrument.transport.security import ClientKeys

ENTRY_POINT_GROUP = "fibsims.instruments"
COST_MODEL_GROUP = "fibsims.cost_models"


@dataclass(frozen=True)
class InstrumentOptions:
    """What a backend is told when it is opened.

    ``seed`` is the run seed: a twin derives every random stream from it. ``sample`` carries the
    recipe's sample description as plain data (a twin reads its ``twin`` section; hardware
    ignores it). ``start_time_s`` is the run's instrument time at which this session begins:
    0 for a new run, the last committed slice's end time for a resumed one. A twin starts its
    virtual clock there (so a resumed run is timed exactly as an uninterrupted one); a hardware
    backend adds it as an offset to its wall clock.
    """

    seed: int
    sample: Mapping[str, Any] = field(default_factory=dict)
    start_time_s: float = 0.0
    faults: tuple[Mapping[str, Any], ...] = ()  # fault injection; simulated backends only
    sample_state: Mapping[str, Any] | None = None
    """A simulated sample's physical state as the last committed slice left it
    (``GroundTruth.sample_state``); None for a new run. Hardware ignores it."""


@dataclass(frozen=True)
class CostView:
    """What an estimate reads of a backend, offered without opening it.

    The same objects the opened instrument would carry: ``costs`` is its ``Instrument.costs``,
    ``capabilities`` its ``Instrument.capabilities`` and ``stage`` what its
    ``stage.position()`` would read right after opening, so an estimate from the view equals one
    from the instrument.
    """

    costs: CostModel
    capabilities: Capabilities
    stage: StagePosition


InstrumentFactory = Callable[[InstrumentOptions], Instrument]
CostViewFactory = Callable[[InstrumentOptions], CostView | None]


def available_backends() -> list[str]:
    """Names of the installed instrument backends."""
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def open_instrument(
    name: str, options: InstrumentOptions, *, keys: ClientKeys | None = None
) -> Instrument:
    """Open the backend registered as ``name``, or the server at ``name`` if it is an address.

    ``keys`` are the CurveZMQ client keys for an address (named backends ignore them).
    """
    if is_composition(name):
        check_instrument_name(name)  # every name known before any backend opens
        composition = parse_composition(name)
        return open_composition(composition, lambda part: open_instrument(part, options, keys=keys))
    if "://" in name:
        from fibsims.instrument.transport.client import connect  # zmq only when a link is used

        return connect(name, options, keys=keys)
    factory: InstrumentFactory = _entry_point(name).load()
    return factory(options)


def check_instrument_name(name: str) -> None:
    """Refuse, without opening anything, a backend name (or a composition naming one) that is
    not installed: an InstrumentError naming those that are. Addresses pass unchecked."""
    if is_composition(name):
        for part in parse_composition(name).providers():
            if "://" not in part:
                try:
                    _entry_point(part)
                except InstrumentError as error:
                    raise InstrumentError(f"instrument {name!r}: {error}") from None
    elif "://" not in name:
        _entry_point(name)


def _entry_point(name: str) -> Any:
    """The entry point of the backend ``name``; an InstrumentError naming those installed."""
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        known = ", ".join(available_backends()) or "none installed"
        raise InstrumentError(
            f"no instrument backend named {name!r} (installed: {known}); "
            "install its package or pick one of those"
        )
    return found[0]


def open_cost_view(name: str, options: InstrumentOptions) -> CostView | None:
    """The cost view the backend ``name`` offers for ``options``; None for an address (a server
    answers only over a session), a backend that offers none, or options it needs opening for:
    then open the instrument."""
    if "://" in name or is_composition(name):
        return None  # a composition's estimate opens it (its cost model is the parts' lower bounds)
    found = [ep for ep in entry_points(group=COST_MODEL_GROUP) if ep.name == name]
    if not found:
        return None
    factory: CostViewFactory = found[0].load()
    return factory(options)
