"""Errors of the instrument link, classified like every other instrument error.

Why subclasses of :class:`HardwareFault`: a link the client has given up on needs a person
(start the server, fix a key, resume the run), and the engine already turns a ``HardwareFault``
into a stopped run whose committed slices stay safe. Configuration mistakes (a bad address, a
missing key file) are plain :class:`InstrumentError`, which the CLI reports as bad input.
"""

from __future__ import annotations

from fibsims.instrument.errors import (
    HardwareFault,
    InstrumentError,
    SafetyInterlock,
    TransientInstrumentError,
)
from fibsims.instrument.transport.protocol import ErrorCode

DEVICE_ERRORS: dict[ErrorCode, type[InstrumentError]] = {
    ErrorCode.TRANSIENT: TransientInstrumentError,
    ErrorCode.SAFETY_INTERLOCK: SafetyInterlock,
    ErrorCode.HARDWARE_FAULT: HardwareFault,
    ErrorCode.INSTRUMENT_ERROR: InstrumentError,
}
"""An instrument's error and its code, both ways; the first class an error is, wins."""


class LinkConfigError(InstrumentError):
    """The link cannot be set up as asked: a bad address, a missing key, a port in use."""


class ServerUnreachable(HardwareFault):
    """The server did not answer (no reply, no heartbeat) for longer than the client waits."""


class ClientRefused(HardwareFault):
    """The server refused this client in the security handshake (CurveZMQ keys)."""


class SessionLost(HardwareFault):
    """The server no longer knows this session: it restarted without its state."""


class CallTimeout(HardwareFault):
    """The server is alive but one call ran past the client's per-call timeout."""


class LinkProtocolError(HardwareFault):
    """The two ends do not understand each other (version, message shape, size)."""
