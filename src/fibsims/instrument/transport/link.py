"""The client end of the link: one DEALER socket, request ids, heartbeats, retries.

How a call goes: the request is sent with a fresh call id. While waiting, the client pings
every ``heartbeat_s`` on the same socket, asking whether its call is still running. A pong
that says "running" keeps it waiting (a long mill is fine); a pong that says "not running"
means the reply was lost, so the call is resent with the *same* id and the server answers from
its cache. If nothing at all comes back for ``silence_s`` the socket is closed and reopened
(the lazy-pirate pattern) and the call resent. Resends are paced by tenacity with
exponential backoff. The client gives up with a :class:`HardwareFault` subclass when the server
has been silent for ``dead_after_s``, when ``retries`` resends did not help, or when one call
runs past ``timeout_s``. Giving up is final for this link (see :attr:`Link.lost`): every
later call fails at once with the same class, so a wind-down that blanks the beam and asks
whether it is blanked learns "unknown" without waiting again.

Why the socket is rebuilt instead of waited on: after a server restart the old connection's
queued messages are gone and its security handshake is stale; a fresh socket starts clean, and
the call is resent under the same id so the server can de-duplicate it. A monitor on the socket
turns a failed CurveZMQ handshake into an immediate, specific :class:`ClientRefused` instead of
a timeout.

Between calls a heartbeat thread keeps pinging (naming the session), because the server blanks
the beam of a session whose client stays silent for ``dead_after_s``: while the engine writes a
slice file or waits on a disk, a live client must not be taken for a dead one.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import zmq
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential
from zmq.utils.monitor import recv_monitor_message

from fibsims.instrument.errors import HardwareFault, TransientInstrumentError
from fibsims.instrument.transport.addresses import parse_endpoint
from fibsims.instrument.transport.errors import (
    DEVICE_ERRORS,
    CallTimeout,
    ClientRefused,
    LinkConfigError,
    LinkProtocolError,
    ServerUnreachable,
    SessionLost,
)
from fibsims.instrument.transport.frames import ProtocolFault, decode, encode, oversize
from fibsims.instrument.transport.protocol import (
    ErrorCode,
    Limits,
    PingParams,
    PingResult,
    Reply,
    Request,
    WireModel,
)
from fibsims.instrument.transport.security import HANDSHAKE_FAILURES, ClientKeys, close_monitored

log = logging.getLogger("fibsims.link.client")


@dataclass(frozen=True)
class LinkSettings:
    """Timing of the link. Defaults suit hardware; tests shrink them."""

    timeout_s: float = 3600.0  # the longest one call may run on a live server
    heartbeat_s: float = 0.1  # ping period, during calls and between them
    silence_s: float = 1.0  # nothing heard this long: reopen the socket and resend
    dead_after_s: float = 5.0  # a server silent this long is gone (and so is a client, to it)
    retries: int = 10  # resends of one call before giving up
    backoff_s: float = 0.02  # first pause before a resend, doubling up to 1 s

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_s < self.dead_after_s:
            raise LinkConfigError(
                f"heartbeat_s ({self.heartbeat_s:g}) must be positive and below dead_after_s "
                f"({self.dead_after_s:g}): the server takes a client silent that long for dead "
                "and blanks its beam"
            )


DEFAULT_SETTINGS = LinkSettings()


class _Resend(Exception):
    """The reply was lost or a read failed transiently: resend the call (same id), or raise
    the error it carries (``args[0]``) once ``retries`` resends did not help."""


class _Reopen(Exception):
    """Nothing came back at all: resend on a new socket; only ``dead_after_s`` bounds these."""


class Link:
    def __init__(
        self,
        address: str,
        keys: ClientKeys | None = None,
        settings: LinkSettings | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.endpoint = parse_endpoint(address, for_bind=False)
        self.address = address
        self.keys = keys
        self.settings = settings or DEFAULT_SETTINGS
        self.limits = limits or Limits()
        self.session: str | None = None
        self.boot: str | None = None
        self.last_clock_s = 0.0
        self.lost: HardwareFault | None = None
        self._context: zmq.Context[Any] = zmq.Context()
        self._socket: zmq.Socket[Any] | None = None
        self._monitor: zmq.Socket[Any] | None = None
        self._prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._last_heard = self._last_sent = 0.0
        self._closing = threading.Event()
        self._beats = threading.Thread(
            target=self._beat, name="fibsims-link-heartbeat", daemon=True
        )
        self._beats.start()  # it pings once a session is open

    def close(self) -> None:
        self._closing.set()
        self._beats.join(max(1.0, 10 * self.settings.heartbeat_s))
        self._reset()
        self._context.term()

    def _beat(self) -> None:
        """Tell the server this client is alive, unless a call is running (it pings itself),
        the link is lost, or something was sent within the last heartbeat."""
        while not self._closing.wait(self.settings.heartbeat_s):
            if not self._lock.acquire(blocking=False):
                continue
            try:
                quiet_s = time.monotonic() - self._last_sent
                if self.lost is None and self.session and quiet_s >= self.settings.heartbeat_s:
                    sock = self._connected()
                    while sock.poll(0, zmq.POLLIN):  # pongs, and late copies of taken replies
                        sock.recv_multipart(copy=False)
                        self._last_heard = time.monotonic()
                    self._ping(sock, "idle", PingParams(session=self.session))
            except Exception:  # a missed beat is recovered by the next; never end the thread
                log.exception("an idle heartbeat failed")
            finally:
                self._lock.release()

    # -- the socket ------------------------------------------------------------------------
    def _connected(self) -> zmq.Socket[Any]:
        """The connected socket, built on first use and after every :meth:`_reset`."""
        if self._socket is None:
            sock = self._context.socket(zmq.DEALER)
            sock.linger = 0
            sock.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
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

    def _reset(self) -> None:
        """Drop the socket (and anything queued on it); the next use builds a new one."""
        close_monitored(self._socket, self._monitor)
        self._socket = self._monitor = None

    def _check_handshake(self) -> None:
        """Raise :class:`ClientRefused` if the server refused the security handshake."""
        while self._monitor is not None and self._monitor.poll(0):
            if recv_monitor_message(self._monitor)["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                raise ClientRefused(
                    f"the instrument server at {self.address} refused this client's key: it "
                    "is not among the server's authorised clients (copy client.key into its "
                    "--authorized-clients folder)"
                )
            why = "the server requires CurveZMQ; pass --server-public-key and --client-key"
            if self.keys is not None:
                why = "--server-public-key does not match the server's key, or the server "
                why += "does not use CurveZMQ"
            raise ClientRefused(f"the security handshake with {self.address} failed: {why}")

    # -- calls -----------------------------------------------------------------------------
    def call(
        self,
        method: str,
        params: WireModel | None = None,
        *,
        idempotent: bool,
        session: bool = True,
    ) -> tuple[Any, list[np.ndarray]]:
        """Send one call and return (result, arrays) or raise the classified error."""
        with self._lock:
            if self.lost is not None:
                raise type(self.lost)(str(self.lost))
            try:
                return self._call(method, params, idempotent, session)
            except (ServerUnreachable, ClientRefused, SessionLost, CallTimeout) as fault:
                self.lost = fault
                self._reset()
                raise

    def _call(
        self, method: str, params: WireModel | None, idempotent: bool, session: bool
    ) -> tuple[Any, list[np.ndarray]]:
        request = self._request("", method, params, self.session if session else None)
        frames = encode(request)
        # a message the server would refuse before reading its id, leaving no reply to match
        if (problem := oversize(frames, self.limits)) is not None:
            raise LinkProtocolError(
                f"{method} was not sent: its {problem} (the server would refuse it as too_large)"
            )

        def give_up(state: RetryCallState) -> bool:  # a _Reopen ends at dead_after_s instead
            resend = state.outcome is not None and isinstance(state.outcome.exception(), _Resend)
            return resend and state.attempt_number > self.settings.retries

        retrying = Retrying(
            retry=retry_if_exception_type((_Resend, _Reopen)),
            wait=wait_exponential(multiplier=self.settings.backoff_s, max=1.0),
            stop=give_up,
            reraise=True,
        )
        try:
            return retrying(self._attempt, request, frames, idempotent, time.monotonic())
        except _Resend as last:
            raise last.args[0] from None

    def _attempt(
        self, request: Request, frames: list[Any], idempotent: bool, started: float
    ) -> tuple[Any, list[np.ndarray]]:
        s = self.settings
        sock = self._connected()
        try:
            sock.send_multipart(frames, zmq.NOBLOCK, copy=False)
        except zmq.Again:  # "the socket would not take the request"
            raise self._silence(request.method, started) from None
        sent = self._last_sent = time.monotonic()
        next_ping = sent + s.heartbeat_s
        silence_limit = min(max(s.silence_s, 2 * s.heartbeat_s), s.dead_after_s)
        while True:
            now = time.monotonic()
            if now - started > s.timeout_s:
                raise CallTimeout(
                    f"{request.method} did not finish within {s.timeout_s:g} s on the "
                    f"instrument server at {self.address} (the server is alive; the call is "
                    "still running there)"
                )
            if now - max(self._last_heard, sent) >= silence_limit:
                raise self._silence(request.method, started)
            wait_ms = max(0, int((min(next_ping, sent + silence_limit) - now) * 1000) + 1)
            self._check_handshake()
            if sock.poll(wait_ms, zmq.POLLIN):
                reply, arrays = self._receive(sock)
                if reply.id == request.id:
                    return self._unwrap(request.method, reply, arrays, idempotent)
                if reply.ok and (reply.id or "").startswith(f"{self._prefix}-ping-"):
                    self._on_pong(PingResult.model_validate(reply.result), request.method)
            if time.monotonic() >= next_ping:
                self._ping(sock, "ping", PingParams(session=request.session, call=request.id))
                next_ping = time.monotonic() + s.heartbeat_s

    def _silence(self, method: str, started: float) -> Exception:
        """Nothing came back: drop the socket, and resend unless the server counts as dead."""
        self._reset()
        now = time.monotonic()
        if now - max(self._last_heard, started) < self.settings.dead_after_s:
            return _Reopen()
        hint = " (or the server refused this client's key)" if self.keys is not None else ""
        return ServerUnreachable(
            f"no reply or heartbeat from the instrument server at {self.address} for "
            f"{now - started:.1f} s during {method}: is it running and reachable{hint}? The run "
            "stops here; its committed slices are safe"
        )

    def _receive(self, sock: zmq.Socket[Any]) -> tuple[Reply, list[np.ndarray]]:
        parts = sock.recv_multipart(copy=False)
        self._last_heard = time.monotonic()
        try:
            return decode(parts, Reply, self.limits)
        except ProtocolFault as fault:
            raise LinkProtocolError(
                f"the instrument server at {self.address} sent an unreadable reply: {fault.message}"
            ) from None

    def _request(
        self, tag: str, method: str, params: WireModel | None, session: str | None = None
    ) -> Request:
        """A request with a fresh id; ``tag`` marks heartbeats (``ping-``, ``idle-``)."""
        params_json = params.model_dump(mode="json") if params is not None else {}
        call_id = f"{self._prefix}-{tag}{next(self._ids)}"
        return Request(v=1, id=call_id, method=method, session=session, params=params_json)

    def _ping(self, sock: zmq.Socket[Any], tag: str, params: PingParams) -> None:
        with contextlib.suppress(zmq.Again):  # if it will not go, the silence check reconnects
            sock.send_multipart(encode(self._request(f"{tag}-", "ping", params)), zmq.NOBLOCK)
            self._last_sent = time.monotonic()

    def _on_pong(self, pong: PingResult, method: str) -> None:
        if self.boot is not None and pong.boot != self.boot:
            raise self._session_lost(
                method,
                f"it restarted: it now runs as boot {pong.boot}, the session was opened on boot "
                f"{self.boot}",
            )
        if not pong.session_known:
            raise self._session_lost(
                method,
                "it restarted without the session, or closed it after hearing nothing from "
                "this client for its dead_after_s",
            )
        if not pong.running:
            raise _Resend(
                ServerUnreachable(
                    f"{method} to {self.address}: {self.settings.retries} resends got no reply "
                    "(the server finished the call but its reply was lost); the link is too "
                    "lossy to go on"
                )
            )

    def _session_lost(self, method: str, detail: str) -> SessionLost:
        return SessionLost(
            f"the instrument server at {self.address} lost this session ({detail}); whether "
            f"{method} ran is unknown, so the run stops here with its committed slices safe: "
            "resume it once the server is back"
        )

    def _unwrap(
        self, method: str, reply: Reply, arrays: list[np.ndarray], idempotent: bool
    ) -> tuple[Any, list[np.ndarray]]:
        if reply.clock_s is not None:
            self.last_clock_s = reply.clock_s
        if reply.error is None:  # ok (the Reply model makes the two exclusive)
            return reply.result, arrays
        code, message = reply.error.code, reply.error.message
        if idempotent and code == ErrorCode.TRANSIENT:  # a re-read may clear; an action is
            retries = self.settings.retries  # never resent
            raise _Resend(TransientInstrumentError(f"{method} failed {retries} times: {message}"))
        if code in DEVICE_ERRORS:
            raise DEVICE_ERRORS[code](message)
        if code == ErrorCode.NO_SESSION:
            raise self._session_lost(method, message)
        raise LinkProtocolError(
            f"the instrument server at {self.address} refused {method}: [{code.value}] {message}"
        )
