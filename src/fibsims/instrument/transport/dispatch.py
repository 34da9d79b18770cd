"""What the server does with each request (answer at once, join a running call, or run it),
and the state it keeps: open sessions, the reply cache that de-duplicates calls, counters.

Why separate from the socket loop: this is the protocol's logic (sessions, de-duplication,
error classification) and it is easier to read without socket plumbing around it. It never
raises for a bad request: every path ends in a reply.

Why a reply cache: a reply can be lost after the instrument acted (the mill is done, the
network dropped the answer). The client then resends the same call id; the server must answer
from the cache, not mill again. The cache is bounded by entries and bytes; a client only ever
retries its latest call, so a few replies per session are enough.

Why sessions remember when their client was last heard: a client that died (crashed, killed,
cut off) leaves its beam as it was, possibly unblanked. Its session lasts only as long as the
client keeps talking; silence beyond the client's own bound (``dead_after_s``, sent at open)
expires it, and the server blanks its beam.

Why the server blanks beams at all (:meth:`Session.secure`): the client blanks the beam when a
run winds down, but a client that crashed, was killed or lost its network cannot. So whenever a
session ends without its client (its client fell silent, it was evicted for a newer one,
forgotten in a restart, or the server is stopping) and also when its client closes it, the
server blanks the beam, best effort and logged, before it closes the instrument. Where this
runs: on the instrument thread, so a blank never races a call running on the same backend (see
:mod:`server`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.registry import InstrumentOptions
from fibsims.instrument.transport.derived import METHODS, ArrayPack, Method, method_table
from fibsims.instrument.transport.errors import DEVICE_ERRORS
from fibsims.instrument.transport.frames import ProtocolFault, decode, encode, oversize, validate
from fibsims.instrument.transport.protocol import (
    ErrorCode,
    ErrorInfo,
    Limits,
    OpenParams,
    OpenResult,
    PingParams,
    PingResult,
    Reply,
    Request,
)

InstrumentFactory = Callable[[InstrumentOptions], Instrument]
Ran = tuple[Any, list[np.ndarray], float | None]  # a job's result, arrays and clock
log = logging.getLogger("fibsims.link.server")

MAX_DEAD_AFTER_S = 60.0
"""The longest silence a client may ask the server to wait out before blanking its beam."""

CacheKey = tuple[str, str]  # (session id or "" before a session exists, call id)


@dataclass
class Session:
    """``closed`` is set, on the instrument thread, once the session's beam was blanked and its
    instrument closed: a call of it still queued then finds it closed and does not run."""

    id: str
    instrument: Instrument
    dead_after_s: float
    last_heard: float = field(default_factory=time.monotonic)
    closed: bool = False

    def secure(self, why: str, stats: ServerStats, level: int) -> None:
        """Blank the beam, close the instrument and mark the session closed (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.instrument.column.blank()
        except Exception as error:  # best effort: log it and still close
            stats.bump("blank_failures")
            log.error(
                "%s: could NOT blank the beam of session %s (%s: %s); blank it at the instrument",
                why,
                self.id,
                type(error).__name__,
                error,
            )
        else:
            stats.bump("beams_blanked")
            log.log(level, "%s: blanked the beam of session %s and closed it", why, self.id)
        try:
            self.instrument.close()
        except Exception as error:
            log.error("closing the instrument of session %s failed: %s", self.id, error)


class SessionTable:
    """Open sessions, least recently used first; the oldest is closed beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, instrument: Instrument, dead_after_s: float) -> tuple[Session, list[Session]]:
        """A new session, and those it evicts (the least recently used beyond the limit)."""
        session = Session(uuid.uuid4().hex[:16], instrument, dead_after_s)
        with self._lock:
            self._sessions[session.id] = session
            evicted = []
            while len(self._sessions) > self.limit:
                evicted.append(self._sessions.popitem(last=False)[1])
        return session, evicted

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def heard(self, session_id: str | None) -> Session | None:
        """The client of ``session_id`` spoke: it is alive (and the session recently used)."""
        with self._lock:
            session = self._sessions.get(session_id or "")
            if session is not None:
                session.last_heard = time.monotonic()
                self._sessions.move_to_end(session.id)
        return session

    def heard_all(self) -> None:
        """The server itself was away (a restart): nobody's silence counts against them."""
        now = time.monotonic()
        with self._lock:
            for session in self._sessions.values():
                session.last_heard = now

    def expire(self) -> list[Session]:
        """Remove and return the sessions whose client has been silent beyond its bound."""
        now = time.monotonic()
        return self._pop(lambda s: now - s.last_heard > s.dead_after_s)

    def remove(self, session_id: str) -> None:
        self._pop(lambda s: s.id == session_id)

    def clear(self) -> list[Session]:
        return self._pop(lambda s: True)

    def _pop(self, which: Callable[[Session], bool]) -> list[Session]:
        """Remove and return the sessions ``which`` picks, least recently used first."""
        with self._lock:
            gone = [s for s in self._sessions.values() if which(s)]
            for session in gone:
                del self._sessions[session.id]
        return gone

    def __len__(self) -> int:
        return len(self._sessions)


class ReplyCache(OrderedDict[CacheKey, list[Any]]):
    """Replies of non-idempotent calls, keyed by (session, call id), bounded in size: the
    oldest go beyond ``max_entries`` or ``max_bytes`` (but the newest always stays)."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 512 * 1024 * 1024) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def put(self, key: CacheKey, frames: list[Any]) -> None:
        self[key] = frames
        self.move_to_end(key)
        while len(self) > 1 and (len(self) > self.max_entries or self.nbytes() > self.max_bytes):
            self.popitem(last=False)

    def nbytes(self) -> int:
        return sum(memoryview(f).nbytes for frames in self.values() for f in frames)


@dataclass
class ServerStats:
    """What the server did: the proof that a retried mill ran once."""

    executed: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    calls_received: int = 0
    duplicates_suppressed: int = 0
    replies_dropped: int = 0
    disconnects: int = 0
    restarts: int = 0
    refused_clients: int = 0
    sessions_opened: int = 0
    sessions_expired: int = 0  # closed because their client fell silent
    beams_blanked: int = 0  # blanked by the server itself (expiry, eviction, close, stop)
    blank_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, amount: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def count(self, counter: str, key: str) -> None:
        with self.lock:
            getattr(self, counter)[key] += 1

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lock"}
            return {k: dict(v) if isinstance(v, Counter) else v for k, v in values.items()}


class Dispatcher:
    """Calls go to ``submit`` (the instrument thread) and their replies, from :meth:`finish`,
    to ``send``: to every client that sent the call while it ran."""

    def __init__(
        self,
        factory: InstrumentFactory,
        limits: Limits,
        max_sessions: int,
        devices: Mapping[str, type] | None,
        submit: Callable[[CacheKey, Callable[[], list[Any]]], None],
        send: Callable[[bytes, list[Any]], None],
    ) -> None:
        self.factory = factory
        self.methods = METHODS if devices is None else method_table(devices)
        self.limits = limits
        self.stats = ServerStats()
        self.submit = submit
        self.send = send
        self.sessions = SessionTable(max_sessions)
        self.cache = ReplyCache()
        self.running: dict[CacheKey, tuple[bool, list[bytes]]] = {}  # cache it?, who waits
        self.boot = uuid.uuid4().hex[:12]

    def forget_everything(self) -> list[Session]:
        """A restart that persisted nothing: new boot id, no sessions, no cached replies."""
        self.boot = uuid.uuid4().hex[:12]
        self.cache.clear()
        self.running.clear()
        return self.sessions.clear()

    # -- requests (socket thread) --------------------------------------------------------
    def handle(self, identity: bytes, parts: list[Any]) -> list[Any] | None:
        """The reply to send at once (to a heartbeat, a stats request or a bad request), or
        None for a call: its reply goes to ``send``, from the cache or once it has run."""
        try:
            request, _ = decode(parts, Request, self.limits)
            if request.method == "server.stats":
                return encode(Reply(id=request.id, ok=True, result=self.stats.as_dict()))
            if request.method == "ping":
                params = validate(PingParams, request.params, request.id)
                running = (params.session or "", params.call or "") in self.running
                known = params.session is None or self.sessions.heard(params.session) is not None
                pong = PingResult(boot=self.boot, running=running, session_known=known)
                return encode(Reply(id=request.id, ok=True, result=pong.model_dump(mode="json")))
            self._call(identity, request)
        except ProtocolFault as fault:
            log.info("refused a request: [%s] %s", fault.code.value, fault.message)
            return self._error(fault.request_id, fault.code, fault.message)
        return None

    def _call(self, identity: bytes, request: Request) -> None:
        """Run the call, join it if it is running, or answer it from the reply cache."""
        self.stats.bump("calls_received")
        session = self.sessions.heard(request.session)
        key: CacheKey = (request.session or "", request.id)
        cached = self.cache.get(key)
        if cached is not None or key in self.running:
            self.stats.bump("duplicates_suppressed")
            if cached is not None:
                self.send(identity, _as_duplicate(cached))
            else:  # it runs: its reply goes to every client that sent it
                self.running[key][1].append(identity)
            return
        name = request.method
        method = self.methods.get(name)
        if name == "session.open":
            run = functools.partial(self._open, validate(OpenParams, request.params, request.id))
        elif method is None and name != "session.close":
            raise ProtocolFault(
                ErrorCode.UNKNOWN_METHOD,
                f"unknown method {name!r}; this server offers session.open, session.close, "
                f"ping, server.stats and {', '.join(sorted(self.methods))}",
                request.id,
            )
        elif session is None:
            raise self._no_session(request.session, request.id)
        elif method is None:
            run = functools.partial(self._close, session)
        else:
            params = validate(method.params, request.params, request.id)
            run = functools.partial(self._invoke, request.id, session, method, params)
        self.running[key] = (method is None or not method.idempotent, [identity])
        self.submit(key, functools.partial(self._guarded, name, request.id, run))

    def finish(self, key: CacheKey, frames: list[Any] | None) -> None:
        """The call ``key`` ended (``frames`` None: it crashed): reply to all who sent it."""
        cache, waiters = self.running.pop(key, (False, []))
        if frames is not None:
            if cache:
                self.cache.put(key, frames)
            for identity in waiters:
                self.send(identity, frames)

    def _no_session(self, session_id: str | None, request_id: str | None) -> ProtocolFault:
        return ProtocolFault(
            ErrorCode.NO_SESSION,
            f"session {session_id!r} is not open on this server (boot {self.boot}): the server "
            "restarted without it, or closed it (its beam blanked) after its client fell "
            "silent; open a new one with session.open",
            request_id,
        )

    # -- jobs (instrument thread) --------------------------------------------------------
    def _open(self, params: OpenParams) -> Ran:
        values = {f.name: getattr(params, f.name) for f in fields(InstrumentOptions)}
        options = InstrumentOptions(**{**values, "faults": tuple(params.faults)})
        instrument = self.factory(options)
        try:  # a session starts with its beam off, whatever the last user left
            instrument.column.blank()
        except BaseException:
            instrument.close()
            raise
        dead_after_s = min(params.dead_after_s, MAX_DEAD_AFTER_S)
        session, evicted = self.sessions.add(instrument, dead_after_s)
        for old in evicted:
            old.secure("evicted for a new session", self.stats, logging.WARNING)
        self.stats.bump("sessions_opened")
        log.info(
            "session %s opened for %s (seed %d; closed after %g s without a word)",
            session.id,
            params.client or "a client",
            params.seed,
            dead_after_s,
        )
        result = OpenResult(
            session=session.id,
            boot=self.boot,
            instrument=instrument.name,
            ion_species=instrument.column.ion_species,
            has_truth=instrument.truth is not None,
            has_vacuum=instrument.vacuum is not None,
            has_costs=instrument.costs is not None,
            capabilities=(
                None if instrument.capabilities is None else instrument.capabilities.to_json()
            ),
        )
        return result.model_dump(mode="json"), [], instrument.clock.now_s()

    def _close(self, session: Session) -> Ran:
        self.sessions.remove(session.id)
        session.secure("closed by its client", self.stats, logging.INFO)
        return None, [], None

    def _invoke(self, request_id: str, session: Session, method: Method, params: Any) -> Ran:
        if session.closed:  # expired, evicted or forgotten while this call was queued
            raise self._no_session(session.id, request_id)
        pack = ArrayPack()
        result = method.encode(method.run(session.instrument, params, self.limits), pack)
        return result, pack.arrays, session.instrument.clock.now_s()

    def _guarded(self, name: str, request_id: str, run: Callable[[], Ran]) -> list[Any]:
        """``run``'s reply, or the typed error reply of whatever went wrong."""
        self.stats.count("executed", name)
        try:
            result, arrays, clock_s = run()
            frames = encode(Reply(id=request_id, ok=True, result=result, clock_s=clock_s), arrays)
            # a large JSON result (a sample state) may not fit
            if (problem := oversize(frames, self.limits)) is None:
                return frames
            code, message = ErrorCode.TOO_LARGE, f"the reply to {name} would have a {problem}"
        except ProtocolFault as fault:
            code, message = fault.code, fault.message
        except (InstrumentError, LookupError) as error:  # LookupError: no such device
            kinds = DEVICE_ERRORS.items()
            code = next((c for c, k in kinds if isinstance(error, k)), ErrorCode.INSTRUMENT_ERROR)
            message = str(error)
        except Exception as error:
            log.exception("%s failed unexpectedly", name)
            code = ErrorCode.SERVER_ERROR
            message = f"{name} failed on the server: {type(error).__name__}: {error}"
        return self._error(request_id, code, message)

    def _error(self, request_id: str | None, code: ErrorCode, message: str) -> list[Any]:
        self.stats.count("errors", code.value)
        return encode(Reply(id=request_id, ok=False, error=ErrorInfo(code=code, message=message)))


def _as_duplicate(frames: list[Any]) -> list[Any]:
    header = Reply.model_validate_json(bytes(memoryview(frames[0])))
    return [header.model_copy(update={"duplicate": True}).model_dump_json().encode(), *frames[1:]]
