"""The instrument link: any :class:`Instrument` served over ZeroMQ, and the client that drives
it as if it were local. The protocol is documented in docs/protocol.md.

Server: :class:`InstrumentServer` wraps an instrument factory. Client: :func:`connect` returns
an :class:`Instrument` whose devices are proxies. Only fibsims.instrument and third-party
libraries are imported here (the transport is part of the instrument layer).
"""

from fibsims.instrument.transport.client import RemoteInstrument, connect
from fibsims.instrument.transport.errors import (
    CallTimeout,
    ClientRefused,
    LinkConfigError,
    LinkProtocolError,
    ServerUnreachable,
    SessionLost,
)
from fibsims.instrument.transport.faults import FaultPlan
from fibsims.instrument.transport.link import LinkSettings
from fibsims.instrument.transport.protocol import PROTOCOL_NAME, PROTOCOL_VERSION, Limits
from fibsims.instrument.transport.security import (
    ClientKeys,
    KeyFiles,
    ServerKeys,
    generate_keys,
)
from fibsims.instrument.transport.server import InstrumentServer

__all__ = [
    "PROTOCOL_NAME",
    "PROTOCOL_VERSION",
    "CallTimeout",
    "ClientKeys",
    "ClientRefused",
    "FaultPlan",
    "InstrumentServer",
    "KeyFiles",
    "Limits",
    "LinkConfigError",
    "LinkProtocolError",
    "LinkSettings",
    "RemoteInstrument",
    "ServerKeys",
    "ServerUnreachable",
    "SessionLost",
    "connect",
    "generate_keys",
]
