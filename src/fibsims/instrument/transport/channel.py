"""The client's socket: a DEALER that can be thrown away and rebuilt (the lazy-pirate pattern).

Why rebuild instead of waiting: after a server restart the old connection's queued messages are
gone and its security handshake is stale; a fresh socket starts clean, and the call is resent
under the same id so the server can de-duplicate it. A monitor on the socket turns a failed
CurveZMQ handshake into an immediate, specific :class:`ClientRefused` instead of a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from fibsims.instrument.transport.addresses import Endpoint
from fibsims.instrument.transport.errors import ClientRefused
from fibsims.instrument.transport.security import HANDSHAKE_FAILURES, ClientKeys, close_monitored


@dataclass
class Channel:
    endpoint: Endpoint
    address: str
    keys: ClientKeys | None
    max_message_bytes: int
    _context: zmq.Context[Any] = field(default_factory=zmq.Context)
    _socket: zmq.Socket[Any] | None = None
    _monitor: zmq.Socket[Any] | None = None

    def socket(self) -> zmq.Socket[Any]:
        """The connected socket, built on first use and after every :meth:`reset`."""
        if self._socket is None:
            sock = self._context.socket(zmq.DEALER)
            sock.linger = 0
            sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
            sock.setsockopt(zmq.RECONNECT_IVL, 50)
            sock.setsockopt(zmq.RECONNECT_IVL_MAX, 500)
            sock.ipv6 = self.endpoint.is_ipv6
            try:
                if self.keys is not None:
                    self.keys.apply(sock)
                self._monitor = sock.get_monitor_socket(HANDSHAKE_FAILURES)
                sock.connect(self.endpoint.text)
            except BaseException:
                sock.close(linger=0)
                raise
            self._socket = sock
        return self._socket

    def reset(self) -> None:
        """Drop the socket (and anything queued on it); the next use builds a new one."""
        close_monitored(self._socket, self._monitor)
        self._socket = self._monitor = None

    def close(self) -> None:
        self.reset()
        self._context.term()

    def check_handshake(self) -> None:
        """Raise :class:`ClientRefused` if the server refused the security handshake."""
        monitor = self._monitor
        while monitor is not None and monitor.poll(0):
            event = recv_monitor_message(monitor)["event"]
            if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                raise ClientRefused(
                    f"the instrument server at {self.address} refused this client's key: it "
                    "is not among the server's authorised clients (copy client.key into its "
                    "--authorized-clients folder)"
                )
            raise ClientRefused(
                f"the security handshake with {self.address} failed: "
                + (
                    "--server-public-key does not match the server's key, or the server does "
                    "not use CurveZMQ"
                    if self.keys is not None
                    else "the server requires CurveZMQ; pass --server-public-key and --client-key"
                )
            )
