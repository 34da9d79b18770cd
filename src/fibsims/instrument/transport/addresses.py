"""Endpoint addresses: parse them, refuse bad ones early, and tell loopback from the network.

Why a module: the rule "anything but loopback needs CurveZMQ keys" must be applied the same way
by the instrument server and by the live-event publisher, and a bad address must be refused
with a message that names it before libzmq answers with a bare "Invalid argument".
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from fibsims.instrument.transport.errors import LinkConfigError

_TCP = re.compile(r"^tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):(?P<port>\d{1,5}|\*)$")
EXAMPLE = "tcp://127.0.0.1:5555"


@dataclass(frozen=True)
class Endpoint:
    """A parsed ``tcp://HOST:PORT`` or ``ipc://PATH`` address."""

    text: str
    scheme: str
    host: str = ""

    @property
    def is_ipv6(self) -> bool:
        return self.host.startswith("[")

    @property
    def is_local(self) -> bool:
        """Reachable only from this machine: a loopback host, or an ipc socket file."""
        if self.scheme == "ipc" or self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False  # a host name or "*": reachable from the network


def parse_endpoint(text: str, *, for_bind: bool) -> Endpoint:
    """Parse ``text``; raise :class:`LinkConfigError` naming the address and an example."""
    if not isinstance(text, str) or not text:
        raise LinkConfigError(f"an address is needed, e.g. {EXAMPLE}")
    if text.startswith("ipc://"):
        if len(text) <= len("ipc://"):
            raise LinkConfigError(f"address {text!r} has no socket path, e.g. ipc:///tmp/fib.sock")
        return Endpoint(text=text, scheme="ipc")
    match = _TCP.match(text)
    if match is None:
        raise LinkConfigError(
            f"address {text!r} is not of the form tcp://HOST:PORT (e.g. {EXAMPLE}) or ipc://PATH"
        )
    host, port_text = match["host"], match["port"]
    port = 0 if port_text == "*" else int(port_text)
    lowest = 0 if for_bind else 1
    if not lowest <= port <= 65535:
        raise LinkConfigError(
            f"address {text!r}: port {port_text} is outside {lowest}-65535"
            + ("" if for_bind else " (a client needs the server's actual port)")
        )
    if host == "*" and not for_bind:
        raise LinkConfigError(f"address {text!r}: a client must name the server's host, not '*'")
    zmq_text = f"tcp://{host}:{'*' if port_text == '*' else port}"
    return Endpoint(text=zmq_text, scheme="tcp", host=host)
