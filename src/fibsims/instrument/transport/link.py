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

from fibsims.instrument.errors import (
    HardwareFault,
    InstrumentError,
    TransientInstrumentError,
)
from fibsims.instrument.transport.addresses import parse_endpoint
from fibsims.instrument.transport.channel import Channel
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
from fibsims.instrument.transport.security import ClientKeys

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
    """The current attempt got no usable reply; resend the call (same id).

    ``silent``: nothing came back at all. ``transient``: an idempotent read failed with a
    transient device error, which a re-read may clear."""

    def __init__(self, reason: str, silent: bool = False, transient: bool = False) -> None:
        super().__init__(reason)
        self.silent, self.transient = silent, transient


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
        self._channel = Channel(self.endpoint, address, keys, self.limits.max_message_bytes)
        self._prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._last_heard = 0.0
        self._last_sent = 0.0
        self._closing = threading.Event()
        self._beats = threading.Thread(
            target=self._beat, name="fibsims-link-heartbeat", daemon=True
        )

    def start_heartbeat(self) -> None:
        """Ping between calls from now on (once a session is open)."""
        if self._beats.ident is None:
            self._beats.start()

    def close(self) -> None:
        self._closing.set()
        if self._beats.ident is not None and self._beats is not threading.current_thread():
            self._beats.join(max(1.0, 10 * self.settings.heartbeat_s))
        self._channel.close()

    def _beat(self) -> None:
        while not self._closing.wait(self.settings.heartbeat_s):
            try:
                self.ping_if_idle()
            except Exception:  # a missed beat is recovered by the next; never end the thread
                log.exception("an idle heartbeat failed")

    def ping_if_idle(self) -> None:
        """Tell the server this client is alive, unless a call is running (it pings itself),
        the link is lost, or something was sent within the last heartbeat."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            quiet_s = time.monotonic() - self._last_sent
            if self.lost is not None or self.session is None or quiet_s < self.settings.heartbeat_s:
                return
            sock = self._channel.socket()
            while sock.poll(0, zmq.POLLIN):  # pongs, and late copies of replies already taken
                sock.recv_multipart(copy=False)
                self._last_heard = time.monotonic()
            self._ping(sock, "idle", PingParams(session=self.session))
        finally:
            self._lock.release()

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
                self._channel.reset()
                raise

    def _call(
        self, method: str, params: WireModel | None, idempotent: bool, session: bool
    ) -> tuple[Any, list[np.ndarray]]:
        request = self._request("", method, params, self.session if session else None)
        frames = encode(request)
        problem = oversize(frames, self.limits)  # the server would refuse it without its id
        if problem is not None:
            raise LinkProtocolError(
                f"{method} was not sent: its {problem} (the server would refuse it as too_large)"
            )
        started = time.monotonic()
        s = self.settings
        retrying = Retrying(
            retry=retry_if_exception_type(_Resend),
            wait=wait_exponential(multiplier=s.backoff_s, max=1.0),
            stop=lambda state: self._give_up(state, started),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    reply, arrays = self._attempt(request, frames, started)
                    error = reply.error  # a read that failed transiently is worth reading again;
                    if idempotent and error is not None and error.code == ErrorCode.TRANSIENT:
                        raise _Resend(error.message, transient=True)  # an action is not resent
        except _Resend as last:
            raise self._verdict(method, last, started) from None
        return self._unwrap(method, reply, arrays)

    def _give_up(self, state: RetryCallState, started: float) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Resend) and error.silent:
            silent_s = time.monotonic() - max(self._last_heard, started)
            return silent_s >= self.settings.dead_after_s
        return state.attempt_number > self.settings.retries

    def _verdict(self, method: str, last: _Resend, started: float) -> InstrumentError:
        waited = time.monotonic() - started
        if last.transient:
            return TransientInstrumentError(
                f"{method} failed {self.settings.retries} times: {last}"
            )
        if last.silent:
            hint = " (or the server refused this client's key)" if self.keys is not None else ""
            return ServerUnreachable(
                f"no reply or heartbeat from the instrument server at {self.address} for "
                f"{waited:.1f} s during {method}: is it running and reachable{hint}? The run "
                "stops here; its committed slices are safe"
            )
        return ServerUnreachable(
            f"{method} to {self.address}: {self.settings.retries} resends got no reply "
            f"({last}); the link is too lossy to go on"
        )

    def _attempt(
        self, request: Request, frames: list[Any], started: float
    ) -> tuple[Reply, list[np.ndarray]]:
        s = self.settings
        sock = self._channel.socket()
        try:
            sock.send_multipart(frames, zmq.NOBLOCK, copy=False)
        except zmq.Again:
            self._channel.reset()
            raise _Resend("the socket would not take the request", silent=True) from None
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
                self._channel.reset()
                raise _Resend("the server went silent", silent=True)
            wait_ms = max(0, int((min(next_ping, sent + silence_limit) - now) * 1000) + 1)
            self._channel.check_handshake()
            if sock.poll(wait_ms, zmq.POLLIN):
                outcome = self._receive(sock, request)
                if outcome is not None:
                    return outcome
            if time.monotonic() >= next_ping:
                self._ping(sock, "ping", PingParams(session=request.session, call=request.id))
                next_ping = time.monotonic() + s.heartbeat_s

    def _receive(
        self, sock: zmq.Socket[Any], request: Request
    ) -> tuple[Reply, list[np.ndarray]] | None:
        while sock.poll(0, zmq.POLLIN):
            parts = sock.recv_multipart(copy=False)
            self._last_heard = time.monotonic()
            try:
                reply, arrays = decode(parts, Reply, self.limits)
            except ProtocolFault as fault:
                raise LinkProtocolError(
                    f"the instrument server at {self.address} sent an unreadable reply: "
                    f"{fault.message}"
                ) from None
            if reply.id == request.id:
                return reply, arrays
            if reply.id is not None and reply.id.startswith(f"{self._prefix}-ping-"):
                self._on_pong(reply, request)
        return None

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

    def _on_pong(self, reply: Reply, request: Request) -> None:
        if not reply.ok:
            return
        pong = PingResult.model_validate(reply.result)
        if self.boot is not None and pong.boot != self.boot:
            raise self._session_lost(
                request.method,
                f"it restarted: it now runs as boot {pong.boot}, the session was opened on boot "
                f"{self.boot}",
            )
        if not pong.session_known:
            raise self._session_lost(
                request.method,
                "it restarted without the session, or closed it after hearing nothing from "
                "this client for its dead_after_s",
            )
        if not pong.running:
            raise _Resend("the server finished the call but its reply was lost")

    def _session_lost(self, method: str, detail: str) -> SessionLost:
        return SessionLost(
            f"the instrument server at {self.address} lost this session ({detail}); whether "
            f"{method} ran is unknown, so the run stops here with its committed slices safe: "
            "resume it once the server is back"
        )

    def _unwrap(
        self, method: str, reply: Reply, arrays: list[np.ndarray]
    ) -> tuple[Any, list[np.ndarray]]:
        if reply.clock_s is not None:
            self.last_clock_s = reply.clock_s
        if reply.error is None:  # ok (the Reply model makes the two exclusive)
            return reply.result, arrays
        code, message = reply.error.code, reply.error.message
        if code in DEVICE_ERRORS:
            raise DEVICE_ERRORS[code](message)
        if code == ErrorCode.NO_SESSION:
            raise self._session_lost(method, message)
        raise LinkProtocolError(
            f"the instrument server at {self.address} refused {method}: [{code.value}] {message}"
        )
