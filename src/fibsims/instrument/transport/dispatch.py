"""What the server does with each request: answer at once, join a running call, or run it.

Why separate from the socket loop: this is the protocol's logic (sessions, de-duplication,
error classification) and it is easier to read without socket plumbing around it. It never
raises for a bad request but a :class:`ProtocolFault`, which the loop answers: every path ends
in a reply.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Mapping
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
from fibsims.instrument.transport.sessions import (
    CacheKey,
    ReplyCache,
    ServerStats,
    Session,
    SessionTable,
)

InstrumentFactory = Callable[[InstrumentOptions], Instrument]
Ran = tuple[Any, list[np.ndarray], float | None]  # a job's result, arrays and clock
log = logging.getLogger("fibsims.link.server")

MAX_DEAD_AFTER_S = 60.0
"""The longest silence a client may ask the server to wait out before blanking its beam."""


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
        run: Callable[[], Ran]
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
        options = InstrumentOptions(
            seed=params.seed,
            sample=params.sample,
            start_time_s=params.start_time_s,
            faults=tuple(params.faults),
            sample_state=params.sample_state,
        )
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
            problem = oversize(frames, self.limits)  # a large JSON result (a sample state)
            if problem is None:
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
