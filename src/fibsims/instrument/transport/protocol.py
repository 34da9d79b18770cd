"""The fibsims link protocol, version 1: the envelope of every message (docs/protocol.md).

A message is a ZeroMQ multipart message: one JSON header frame, then one raw binary frame per
array the header declares (dtype and shape in the header, C order, little-endian). Pickle is
never used, so a message can carry numbers and arrays but never code. Both ends validate the
header with these pydantic models; a header that fails gets a typed error reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from fibsims.instrument.transport.jsonvalues import OptionalJsonObject
from fibsims.instrument.transport.scalars import Duration, Flag, Index, Real, WireInt, as_integer

PROTOCOL_VERSION = 1
PROTOCOL_NAME = f"fibsims-link/{PROTOCOL_VERSION}"

DTYPES = frozenset(
    {"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"}
    | {"<c8", "<c16"}
)
"""Array element types the wire carries: little-endian numbers only (no objects, no records)."""

MAX_NDIM = 8
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
"""A call or session id: 1-64 characters of letters, digits and ``_ . : -``."""


class ErrorCode(StrEnum):
    """Why a request failed. The first group is the protocol's, the second the instrument's."""

    BAD_REQUEST = "bad_request"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_METHOD = "unknown_method"
    TOO_LARGE = "too_large"
    NO_SESSION = "no_session"
    SERVER_ERROR = "server_error"
    INSTRUMENT_ERROR = "instrument_error"
    TRANSIENT = "transient"
    HARDWARE_FAULT = "hardware_fault"
    SAFETY_INTERLOCK = "safety_interlock"


@dataclass(frozen=True)
class Limits:
    """Size limits both ends enforce. ``max_message_bytes`` bounds the sum of all frames; the
    same value is set as ``zmq.MAXMSGSIZE``, so libzmq drops a peer that sends a single frame
    beyond it before the message is ever buffered whole."""

    max_message_bytes: int = 256 * 1024 * 1024
    max_header_bytes: int = 1024 * 1024
    max_arrays: int = 32


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are refused, NaN and infinities survive."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


class AddedFieldsModel(WireModel):
    """A model that gained fields after version 1 shipped.

    Why they are left out while they hold their default: models refuse unknown fields, so a
    peer built before a field existed would refuse every message carrying it. Each added field
    has a default meaning "as before" (a pattern rotated by 0 degrees, no sample state), so a
    message that leaves it out means the same to both ends, and only a message that needs the
    new field (which an older peer could not honour anyway) is refused there."""

    added_fields: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_added_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for name in self.added_fields if isinstance(data, dict) else ():
            value, default = getattr(self, name), type(self).model_fields[name].default
            if type(value) is type(default) and repr(value) == repr(default):  # -0.0 is carried
                data.pop(name, None)
        return data


class ArraySpec(WireModel):
    """Declares one array frame: its element type and shape."""

    dtype: str
    shape: tuple[Index, ...]

    @model_validator(mode="after")
    def _carried(self) -> ArraySpec:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype {self.dtype!r} is not carried; use one of {sorted(DTYPES)}")
        if len(self.shape) > MAX_NDIM:
            raise ValueError(f"arrays have at most {MAX_NDIM} dimensions, got {len(self.shape)}")
        return self


Version = Annotated[Literal[1], BeforeValidator(as_integer)]
"""The protocol version: the integer 1 (``true`` and ``1.0`` are not versions)."""


class Request(WireModel):
    """A call: ``id`` is unique per call and reused by every retry of it (the server's
    de-duplication key, with ``session``); ``method`` names an interface method."""

    v: Version
    id: Id
    method: str = Field(max_length=64)
    session: Id | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    arrays: tuple[ArraySpec, ...] = ()


class ErrorInfo(WireModel):
    code: ErrorCode
    message: str


class Reply(WireModel):
    """The answer to one request, matched by ``id``. ``clock_s`` is the session's instrument
    time after the call; ``duplicate`` marks a reply replayed from the server's cache."""

    v: Version = PROTOCOL_VERSION
    id: str | None
    ok: Flag
    result: Any = None
    error: ErrorInfo | None = None
    arrays: tuple[ArraySpec, ...] = ()
    clock_s: Real | None = None
    duplicate: Flag = False

    @model_validator(mode="after")
    def _result_or_error(self) -> Reply:
        if self.ok == (self.error is not None):
            raise ValueError("a reply carries an error exactly when it is not ok")
        return self


DEFAULT_DEAD_AFTER_S = 5.0


class OpenParams(AddedFieldsModel):
    """``session.open``: the :class:`InstrumentOptions` the server builds its instrument from,
    and ``dead_after_s``, the client's own silence bound: it sends something naming the session
    at least every heartbeat, so the server may take it for dead after this long without a
    word, blank the session's beam and close it. ``sample_state`` (a simulated sample's state
    on resume) is a JSON object of finite numbers or null, bounded by the header limit."""

    added_fields = frozenset({"sample_state"})

    seed: WireInt
    sample: dict[str, Any] = Field(default_factory=dict)
    start_time_s: Duration = 0.0
    faults: list[dict[str, Any]] = Field(default_factory=list)  # twin fault injection specs
    sample_state: OptionalJsonObject = None
    client: str = ""
    dead_after_s: Annotated[Duration, Field(gt=0)] = DEFAULT_DEAD_AFTER_S


class OpenResult(WireModel):
    session: str
    boot: str
    instrument: str
    ion_species: str
    has_truth: Flag
    has_vacuum: Flag
    has_costs: Flag = False
    capabilities: OptionalJsonObject = None
    """The backend's :class:`~fibsims.instrument.capabilities.Capabilities` as JSON."""
    server: str = PROTOCOL_NAME


class PingParams(WireModel):
    """``ping``: sent while a call is outstanding; asks whether that call is still running."""

    session: str | None = None
    call: str | None = None


class PingResult(WireModel):
    boot: str
    running: Flag
    session_known: Flag
