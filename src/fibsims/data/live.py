"""Live events: the engine's events on a ZeroMQ PUB socket, for ``fibsims watch`` to follow.

Why PUB/SUB: a watcher must never slow or stop a run. A PUB socket drops messages for a
subscriber that cannot keep up instead of blocking the engine, and a run with no watcher costs
one JSON encoding per event. Every message also carries a progress snapshot (slices, state,
instrument time, last step) folded from all events so far, so a watcher that joins mid-run sees
the whole picture from its first message, not just what happened after it connected.

Message: two frames, the topic ``fibsims.event`` and a UTF-8 JSON object
``{"v": 1, "seq": n, "event": {...Event.as_dict()...}, "progress": {...RunProgress...}}``.
Binding beyond loopback requires CurveZMQ keys, as for the instrument server.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import zmq

from fibsims.data.run_progress import RunProgress
from fibsims.engine.events import Event
from fibsims.instrument.transport.addresses import parse_endpoint
from fibsims.instrument.transport.errors import LinkConfigError
from fibsims.instrument.transport.security import (
    ClientKeys,
    RefusalLoggingAuthenticator,
    ServerKeys,
    make_curve_server,
    require_keys_off_loopback,
    start_authenticator,
)

__all__ = ["KEY_FLAGS", "EventPublisher", "EventSubscriber", "RunProgress"]

TOPIC = b"fibsims.event"
LIVE_VERSION = 1
KEY_FLAGS = ("--publish-server-key", "--publish-authorized-clients")
"""The options of ``fibsims run`` / ``resume`` that give the publisher its keys."""


class EventPublisher:
    """An event sink publishing every engine event; watchers connect to ``endpoint``."""

    def __init__(
        self, address: str, *, keys: ServerKeys | None = None, linger_ms: int = 1000
    ) -> None:
        endpoint = parse_endpoint(address, for_bind=True)
        require_keys_off_loopback(address, endpoint.is_local, keys is not None, KEY_FLAGS)
        self.progress = RunProgress()
        self._seq = 0
        self._context: zmq.Context[Any] = zmq.Context()
        self._auth: RefusalLoggingAuthenticator | None = None
        self._socket = self._context.socket(zmq.XPUB)  # XPUB: lets a caller await a watcher
        self._socket.linger = linger_ms
        self._socket.ipv6 = endpoint.is_ipv6
        try:
            if keys is not None:
                public, secret, allowed = keys.load()
                self._auth = start_authenticator(self._context, allowed)
                make_curve_server(self._socket, public, secret)
            self._socket.bind(endpoint.text)
        except (zmq.ZMQError, LinkConfigError) as error:
            self.close()
            if isinstance(error, LinkConfigError):
                raise
            raise LinkConfigError(f"cannot publish events on {address}: {error}") from None
        self.endpoint = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)

    def __call__(self, event: Event) -> None:
        fields = event.as_dict()
        self.progress.apply(fields)
        self._seq += 1
        message = {
            "v": LIVE_VERSION,
            "seq": self._seq,
            "event": fields,
            "progress": self.progress.as_dict(),
        }
        self._drain_subscriptions()
        with contextlib.suppress(zmq.Again):  # never block the run for a watcher
            self._socket.send_multipart(
                [TOPIC, json.dumps(message, default=str).encode()], zmq.NOBLOCK
            )

    def wait_for_subscriber(self, timeout_s: float) -> bool:
        """Block until a watcher subscribes (True) or ``timeout_s`` passes (False)."""
        if self._socket.poll(int(timeout_s * 1000), zmq.POLLIN):
            self._drain_subscriptions()
            return True
        return False

    def _drain_subscriptions(self) -> None:
        while self._socket.poll(0, zmq.POLLIN):
            self._socket.recv(zmq.NOBLOCK)

    def close(self) -> None:
        self._socket.close()
        if self._auth is not None:
            self._auth.stop()
        self._context.term()


class EventSubscriber:
    """Follows a publisher: :meth:`receive` returns one message dict, or None on timeout."""

    def __init__(self, address: str, *, keys: ClientKeys | None = None) -> None:
        endpoint = parse_endpoint(address, for_bind=False)
        self._context: zmq.Context[Any] = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.linger = 0
        self._socket.ipv6 = endpoint.is_ipv6
        try:
            if keys is not None:
                keys.apply(self._socket)
            self._socket.setsockopt(zmq.SUBSCRIBE, TOPIC)
            self._socket.connect(endpoint.text)
        except BaseException:
            self.close()
            raise

    def receive(self, timeout_s: float | None) -> dict[str, Any] | None:
        timeout_ms = None if timeout_s is None else int(timeout_s * 1000)
        while self._socket.poll(timeout_ms, zmq.POLLIN):
            parts = self._socket.recv_multipart()
            try:
                message = json.loads(parts[-1].decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue  # not ours: skip it, keep watching
            if isinstance(message, dict) and isinstance(message.get("event"), dict):
                return message
        return None

    def close(self) -> None:
        self._socket.close(linger=0)
        self._context.term()
