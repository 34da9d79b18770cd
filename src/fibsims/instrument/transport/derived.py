"""The wire, derived from the interfaces: method table, parameter models, codecs and proxies.

Why derived: a device method is declared once, in :mod:`fibsims.instrument.interfaces`, and
both ends compute from the same declaration what goes on the wire, so they cannot drift apart
and a new method needs no edit here. :func:`method_table` walks each interface's abstract
methods (and concrete ones marked with :func:`~fibsims.instrument.declare.read` or
``action``); the wire name is the device's attribute on :class:`Instrument` plus the method's
name (``column.mill``), its parameters are the method's keyword parameters, and their types
and the result's come from ``typing.get_type_hints``. A method marked ``read`` is idempotent;
any other is an action, whose reply the server caches by call id (:mod:`dispatch`).

Value types map to strict pydantic types (:mod:`scalars`): a float parameter is finite, a
float result may be NaN (a gauge that lost its signal); ints are never bools; a
:class:`~fibsims.instrument.declare.Range` bounds a number; a dataclass becomes a model of its
fields that refuses unknown ones; an array travels as a reference to a raw frame
(:class:`ArrayRef`), never inline; ``dict[str, ndarray]`` is ``{"maps": {name: ref}}`` and
``dict[str, Any]`` a checked JSON object (:mod:`jsonvalues`). A field or parameter with a
default is left out of a message while it holds it (:class:`AddedFieldsModel`), so a field
added to a value type within version 1 is invisible to peers built before it until used.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import re
import types
from abc import ABCMeta
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import numpy as np
from pydantic import Field, TypeAdapter, ValidationError, create_model, model_validator
from pydantic_core.core_schema import ValidationInfo

from fibsims.instrument.declare import Range, is_read, wire_members
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.transport.errors import LinkProtocolError
from fibsims.instrument.transport.frames import summarize_validation, wire_array
from fibsims.instrument.transport.jsonvalues import JsonObject
from fibsims.instrument.transport.link import Link
from fibsims.instrument.transport.protocol import AddedFieldsModel, Limits, WireModel
from fibsims.instrument.transport.replysize import check_reply
from fibsims.instrument.transport.scalars import Finite, Flag, Index, Real, WireInt

_NUMPY = {"np": np}  # the value types import numpy for type checkers only


@cache
def hints(target: Any) -> dict[str, Any]:
    return get_type_hints(target, localns=_NUMPY, include_extras=True)


@dataclass
class ArrayPack:
    """Collects the arrays of one message; each gets a reference by position."""

    arrays: list[np.ndarray] = dataclasses.field(default_factory=list)

    def add(self, array: Any) -> dict[str, int]:
        self.arrays.append(wire_array(np.asarray(array)))
        return {"array": len(self.arrays) - 1}


class ArrayRef(WireModel):
    """Stands for the array frame at position ``array`` of the same message. Validated with an
    :class:`ArrayPack` as context (a message being built), an array is added to the pack."""

    array: Index

    @model_validator(mode="before")
    @classmethod
    def _pack(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(info.context, ArrayPack) and not isinstance(data, dict | ArrayRef):
            return info.context.add(data)
        return data

    def resolve(self, arrays: list[np.ndarray]) -> np.ndarray:
        if self.array >= len(arrays):
            raise ValueError(f"array reference {self.array} but the message has {len(arrays)}")
        return arrays[self.array]


class ArrayMaps(WireModel):
    """A dict of named arrays (ground-truth maps); with an :class:`ArrayPack` as context, a
    Python ``{name: array}`` is taken as the maps."""

    maps: dict[str, ArrayRef]

    @model_validator(mode="before")
    @classmethod
    def _pack(cls, data: Any, info: ValidationInfo) -> Any:
        packing = isinstance(info.context, ArrayPack) and isinstance(data, Mapping)
        return {"maps": data} if packing else data


def _optional(tp: Any) -> Any:
    """``X`` for ``X | None``; None for any other type."""
    if get_origin(tp) in (Union, types.UnionType):
        rest = [a for a in get_args(tp) if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"{tp!r}: only unions with None have a wire form")
        return rest[0]
    return None


@cache
def wire_type(tp: Any, finite: bool) -> Any:
    """The pydantic type that checks a value of ``tp`` on the wire (``finite`` for
    parameters)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        bounds = [Field(ge=m.ge, gt=m.gt, le=m.le) for m in args[1:] if isinstance(m, Range)]
        return Annotated[(wire_type(args[0], finite), *bounds)]
    simple = {float: Finite if finite else Real, bool: Flag, int: WireInt, np.ndarray: ArrayRef}
    if tp in simple:
        return simple[tp]
    if tp in (str, None, type(None)) or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return tp
    if dataclasses.is_dataclass(tp):
        return _mirror(tp, finite)
    if (inner := _optional(tp)) is not None:
        return wire_type(inner, finite) | None
    if origin in (tuple, list, Sequence):
        if len(args) == 1 or args[1:] == (...,):
            return tuple[wire_type(args[0], finite), ...]
        return tuple[tuple(wire_type(a, finite) for a in args)]
    if origin in (dict, Mapping) and args[0] is str and args[1] in (np.ndarray, Any):
        return ArrayMaps if args[1] is np.ndarray else JsonObject
    raise TypeError(f"{tp!r} has no wire form (see fibsims.instrument.transport.derived)")


_KINDS: dict[type, type] = {}  # the wire model of a dataclass -> the dataclass


def _model(name: str, rows: Iterable[tuple[str, Any, Any]], finite: bool) -> type[AddedFieldsModel]:
    """The model of ``rows`` (name, type, default). A field without a default (``MISSING``,
    or a parameter's ``empty``; an array's default factory too) is always sent; one with a
    default is left out while it holds it."""
    required = (MISSING, inspect.Parameter.empty)
    spec = {n: (wire_type(tp, finite), ... if d in required else d) for n, tp, d in rows}
    model: type[AddedFieldsModel] = create_model(name, __base__=AddedFieldsModel, **spec)  # type: ignore[call-overload]
    model.added_fields = frozenset(n for n, (_, default) in spec.items() if default is not ...)
    return model


def _mirror(kind: type, finite: bool) -> type[AddedFieldsModel]:
    types_ = hints(kind)
    fields = ((f.name, types_[f.name], f.default) for f in dataclasses.fields(kind))
    model = _model(kind.__name__, fields, finite)
    _KINDS[model] = kind
    return model


def load(wired: Any, arrays: list[np.ndarray]) -> Any:
    """The Python value a validated wire value stands for: array references resolved, each
    dataclass's model turned back into its dataclass (:data:`_KINDS`), tuples item by item."""
    if isinstance(wired, ArrayRef):
        return wired.resolve(arrays)
    if isinstance(wired, ArrayMaps):
        return {name: ref.resolve(arrays) for name, ref in wired.maps.items()}
    if (kind := _KINDS.get(type(wired))) is not None:
        return kind(**{name: load(v, arrays) for name, v in wired})
    if isinstance(wired, tuple):
        return tuple(load(v, arrays) for v in wired)
    return wired


class Method:
    """One wire method: ``member`` (a function or property) of ``interface``, the interface of
    the device attribute ``device``. ``params`` is the parameter model."""

    def __init__(self, device: str, interface: type, attribute: str, member: Any) -> None:
        function = member.fget if isinstance(member, property) else member
        types_ = hints(function)
        self.name = f"{device}.{attribute}"
        self.device, self.interface, self.attribute = device, interface, attribute
        self.idempotent = bool(is_read(member))
        self.is_property = isinstance(member, property)
        self.signature = inspect.signature(function)
        arguments = list(self.signature.parameters.values())[1:]
        fields = ((p.name, types_[p.name], p.default) for p in arguments)
        self.params = _model(self.name, fields, True)
        self.result = types_.get("return", type(None))
        self.adapter = TypeAdapter(wire_type(self.result, False))

    def build(self, arguments: Mapping[str, Any]) -> AddedFieldsModel:
        """The parameter model of a call (ValidationError if the server would refuse it)."""
        return self.params.model_validate(arguments, from_attributes=True, context=ArrayPack())

    def arguments(self, params: WireModel) -> dict[str, Any]:
        return {n: load(v, []) for n, v in params}

    def run(self, instrument: Instrument, params: WireModel, limits: Limits) -> Any:
        """Invoke the method on ``instrument``, after refusing an acquisition whose reply
        could not be sent (a ``ProtocolFault``, before the beam touches the sample)."""
        device = getattr(instrument, self.device)
        if device is None:
            what = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", self.interface.__name__).lower()
            raise LookupError(
                f"this instrument has no {what} (its {self.device}; the open result says which "
                "optional devices it has)"
            )
        if self.is_property:
            return getattr(device, self.attribute)
        arguments = self.arguments(params)
        check_reply(instrument, self.name, self.result, arguments, limits)
        return getattr(device, self.attribute)(**arguments)

    def encode(self, value: Any, pack: ArrayPack) -> Any:
        wired = self.adapter.validate_python(value, from_attributes=True, context=pack)
        return self.adapter.dump_python(wired, mode="json")

    def decode(self, data: Any, arrays: list[np.ndarray]) -> Any:
        return load(self.adapter.validate_python(data), arrays)


def devices(bundle: type = Instrument) -> dict[str, type]:
    """The device attributes of an instrument bundle and their interfaces, in field order."""
    kinds = {name: _optional(tp) or tp for name, tp in hints(bundle).items()}
    return {name: kind for name, kind in kinds.items() if isinstance(kind, ABCMeta)}


def method_table(interfaces: Mapping[str, type]) -> dict[str, Method]:
    """Every wire method of ``interfaces`` (device attribute name to interface)."""
    return {
        f"{device}.{name}": Method(device, interface, name, member)
        for device, interface in interfaces.items()
        for name, member in wire_members(interface).items()
    }


class RemoteDevice:
    """Base of the derived proxies. ``known`` answers properties read once at session.open."""

    def __init__(self, link: Link, known: Mapping[str, Any] | None = None) -> None:
        self._link = link
        self._known = dict(known or {})

    def _call(self, method: Method, arguments: Mapping[str, Any]) -> Any:
        """Validate the arguments before sending (the server's refusal, raised here), call,
        and decode the reply into the type the interface promises."""
        try:
            params = method.build(arguments) if method.params.model_fields else None
        except ValidationError as error:
            problems = summarize_validation(error, lead="")
            raise LinkProtocolError(
                f"{method.name} was not sent: {problems} (the server would refuse it as "
                "bad_request)"
            ) from None
        result, arrays = self._link.call(method.name, params, idempotent=method.idempotent)
        try:
            return method.decode(result, arrays)
        except ValueError as error:  # pydantic's ValidationError included
            raise LinkProtocolError(
                f"the instrument server at {self._link.address} answered {method.name} with a "
                f"result that does not decode: {error}"
            ) from None


def _proxy_member(method: Method) -> Any:
    if method.is_property:

        def get(self: RemoteDevice) -> Any:
            if method.attribute in self._known:
                return self._known[method.attribute]
            return self._call(method, {})

        return property(get)

    def call(self: RemoteDevice, *args: Any, **kwargs: Any) -> Any:
        bound = method.signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        return self._call(method, dict(list(bound.arguments.items())[1:]))

    call.__name__ = call.__qualname__ = method.attribute
    call.__doc__ = f"Calls ``{method.name}`` on the server."
    return call


def proxy_class(interface: type, device: str, table: Mapping[str, Method]) -> type:
    """A class implementing ``interface`` by calls over a link, one per wire method."""
    namespace = {m.attribute: _proxy_member(m) for m in table.values() if m.device == device}
    return type(f"Remote{interface.__name__}", (RemoteDevice, interface), namespace)


DEVICES = devices()
METHODS: dict[str, Method] = method_table(DEVICES)
"""The protocol's methods, as docs/protocol.md lists them."""
PROXIES: dict[str, type] = {d: proxy_class(i, d, METHODS) for d, i in DEVICES.items()}
