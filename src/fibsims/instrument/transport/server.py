"""The instrument server: one ROUTER socket in front of any :class:`Instrument` factory.

Why ROUTER/DEALER rather than REQ/REP: a REQ socket must alternate send and receive, so a lost
reply wedges it, and a client could not send heartbeats while a call is running. With DEALER
the client pings on the same connection while it waits, and matches replies to calls by id;
the ROUTER serves any number of clients and answers heartbeats while the instrument thread
(:meth:`InstrumentServer._work`) is busy with a long mill.

``InstrumentServer(factory, "tcp://127.0.0.1:5555").start()`` binds and serves in a thread;
``stop()`` ends it. Binding beyond loopback requires :class:`ServerKeys`.

No session ends with its beam on (:meth:`Session.secure`): a session whose client falls silent
beyond its bound is expired by the socket loop, and stopping blanks every open session, both
through the instrument thread.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from fibsims.instrument.transport.addresses import parse_endpoint
from fibsims.instrument.transport.dispatch import CacheKey, Dispatcher, InstrumentFactory, Session
from fibsims.instrument.transport.errors import LinkConfigError
from fibsims.instrument.transport.faults import Fault, FaultInjector, FaultPlan
from fibsims.instrument.transport.protocol import Limits
from fibsims.instrument.transport.security import (
    HANDSHAKE_FAILURES,
    RefusalLoggingAuthenticator,
    ServerKeys,
    close_monitored,
    make_curve_server,
    require_keys_off_loopback,
    start_authenticator,
)

log = logging.getLogger("fibsims.link.server")
Task = Callable[[], Any]  # a call (returning its reply) or a safety task
Queued = tuple[bool, int, tuple[CacheKey | None, Task] | None]  # (not urgent, order, what)


class InstrumentServer:
    def __init__(
        self,
        factory: InstrumentFactory,
        bind: str = "tcp://127.0.0.1:5555",
        *,
        keys: ServerKeys | None = None,
        faults: FaultPlan | None = None,
        limits: Limits | None = None,
        max_sessions: int = 4,
        devices: Mapping[str, type] | None = None,
    ) -> None:
        """``devices`` (attribute name to interface, default :data:`derived.DEVICES`) are
        what the server offers: an extended interface is served with no other change."""
        self._bind = parse_endpoint(bind, for_bind=True)
        require_keys_off_loopback(bind, self._bind.is_local, keys is not None)
        self.keys = keys
        self.limits = limits or Limits()
        self.faults = FaultInjector(faults or FaultPlan())
        self._context: zmq.Context[Any] = zmq.Context()
        self._wake, self._waker = socket.socketpair()  # any thread wakes the loop through it
        self._wake.setblocking(False)
        self._waker.setblocking(False)
        self._tasks: queue.PriorityQueue[Queued] = queue.PriorityQueue()
        self._order = itertools.count()
        self._finished: deque[tuple[CacheKey, list[Any] | None]] = deque()
        self._worker = threading.Thread(target=self._work, name="fibsims-link-worker", daemon=True)
        self.dispatcher = Dispatcher(
            factory, self.limits, max_sessions, devices, self._submit, self._reply
        )
        self.stats_ = self.dispatcher.stats
        self._auth: RefusalLoggingAuthenticator | None = None
        self._curve: tuple[bytes, bytes] | None = None
        self._router: zmq.Socket[Any] | None = None
        self._monitor: zmq.Socket[Any] | None = None
        self._securing: list[Session] = []  # handed to the instrument thread to blank
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fibsims-link-server", daemon=True)
        self.endpoint = ""

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> InstrumentServer:
        """Bind (raising :class:`LinkConfigError` if that fails) and serve in a thread."""
        try:
            if self.keys is not None:
                public, secret, allowed = self.keys.load()
                self._curve = (public, secret)
                self._auth = start_authenticator(self._context, allowed)
            self._open_socket(self._bind.text)
        except BaseException:
            self._close_all()
            raise
        self._worker.start()
        self._thread.start()
        curve = "on" if self.keys is not None else "off, loopback only"
        log.info("serving on %s (CurveZMQ %s)", self.endpoint, curve)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving, blank the beam of every open session and close it, then release.

        The blanks run on the instrument thread after the call it is running (calls still
        queued are dropped). If that call does not end within ``timeout_s``, the beams are
        blanked from this thread anyway: the process is about to end and take the instrument
        thread with it, and ``IonColumn.blank`` is documented as safe at any time."""
        self._stopping.set()
        if self._thread.is_alive():
            self._poke()  # the loop ends now rather than at its next poll timeout
            self._thread.join(timeout_s)
        for session in self.dispatcher.sessions.clear():
            self._secure(session, "the server is stopping")
        self._tasks.put((False, next(self._order), None))  # after the urgent tasks, before calls
        if self._worker.is_alive():
            self._worker.join(timeout_s)
        if self._worker.is_alive():
            log.warning("the instrument thread is still busy after %g s", timeout_s)
        for session in self._securing:  # no-ops for those the instrument thread secured
            session.secure("the server is stopping", self.stats_, logging.WARNING)
        self._close_all()

    def __enter__(self) -> InstrumentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def is_serving(self) -> bool:
        return self._thread.is_alive()

    def stats(self) -> dict[str, Any]:
        return self.stats_.as_dict()

    @property
    def refused_clients(self) -> int:
        return self.stats_.refused_clients

    # -- sockets ---------------------------------------------------------------------------
    def _open_socket(self, address: str) -> None:
        router = self._context.socket(zmq.ROUTER)
        router.linger = 0
        router.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        router.ipv6 = self._bind.is_ipv6
        if self._curve is not None:
            make_curve_server(router, *self._curve)
        monitor = router.get_monitor_socket(HANDSHAKE_FAILURES)
        try:
            router.bind(address)
        except zmq.ZMQError as error:
            close_monitored(router, monitor)
            busy = error.errno == zmq.EADDRINUSE
            hint = " (is another server already using that port?)" if busy else ""
            raise LinkConfigError(f"cannot bind {address}: {error}{hint}") from None
        self._router, self._monitor = router, monitor
        self.endpoint = router.getsockopt_string(zmq.LAST_ENDPOINT)

    def _close_all(self) -> None:
        close_monitored(self._router, self._monitor)
        self._router = self._monitor = None
        self._wake.close()
        self._waker.close()
        if self._auth is not None:
            self._auth.stop()
        self._context.term()

    def _poke(self) -> None:
        """Wake the loop (from any thread): a finished call, or stopping."""
        with contextlib.suppress(OSError):  # full or closed: the loop is awake or gone
            self._waker.send(b"!")

    # -- beam safety -----------------------------------------------------------------------
    def _secure(self, session: Session, why: str) -> None:
        """Blank and close ``session`` on the instrument thread, before any queued call (or in
        :meth:`stop`, if the instrument thread does not get to it)."""
        self._securing = [s for s in self._securing if not s.closed] + [session]
        task = functools.partial(session.secure, why, self.stats_, logging.WARNING)
        self._tasks.put((False, next(self._order), (None, task)))  # urgent: before any call

    # -- the instrument thread -------------------------------------------------------------
    def _submit(self, key: CacheKey, job: Callable[[], list[Any]]) -> None:
        """Run a call after those before it; the loop, woken, sends its reply."""
        self._tasks.put((True, next(self._order), (key, job)))

    def _work(self) -> None:
        """The instrument thread: runs calls one at a time, off the socket thread.

        Why a separate thread: a mill on hardware takes minutes. If the socket thread ran it,
        the server could not answer heartbeats meanwhile and every client would think it dead.
        Calls run here in arrival order (an instrument does one thing at a time); each finished
        call wakes the socket thread, which then sends the reply.

        Why safety tasks run here too: blanking a beam from another thread while a mill runs
        would race the backend (few vendor APIs are thread-safe). An urgent task (blank the beam
        of a session whose client died) jumps the queue and runs as soon as the current call
        ends; stopping is urgent too, so calls still queued behind it are dropped rather than
        run on the way out."""
        while (item := self._tasks.get()[2]) is not None:
            key, task = item  # key None: a safety task, not a call
            frames = None
            try:
                frames = task()
            except Exception:  # calls build their own error replies; this is a last guard
                log.exception("a job crashed outside its error handling")
            if key is not None:  # frames None: it crashed
                self._finished.append((key, frames))
                self._poke()

    # -- the loop --------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                self._serve_once()
            except Exception:  # the loop must survive anything a peer can send
                log.exception("unexpected error while serving; continuing")

    def _serve_once(self) -> None:
        poller = zmq.Poller()
        for sock in filter(None, (self._router, self._wake, self._monitor)):
            poller.register(sock, zmq.POLLIN)
        poller.poll(100)
        with contextlib.suppress(BlockingIOError):
            self._wake.recv(4096)
        while self._finished:
            self.dispatcher.finish(*self._finished.popleft())
        while self._monitor is not None and self._monitor.poll(0):
            self.stats_.bump("refused_clients")
            event = recv_monitor_message(self._monitor)["event"]
            if event != zmq.EVENT_HANDSHAKE_FAILED_AUTH:  # else the authenticator logged its key
                log.warning(
                    "refused a client on %s: security handshake failed (it does not hold this "
                    "server's public key, or only one side uses CurveZMQ)",
                    self.endpoint,
                )
        for _ in range(1000):  # then the rest of the loop gets its turn
            if self._router is None or not self._router.poll(0):
                break
            identity, *parts = self._router.recv_multipart(copy=False)
            answer = self.dispatcher.handle(identity.bytes, parts)
            if answer is not None:  # not a call's reply: no fault is injected
                self._send(identity.bytes, answer)
        for session in self.dispatcher.sessions.expire():
            self.stats_.bump("sessions_expired")
            silent_s = time.monotonic() - session.last_heard
            bound = f"{silent_s:.2f} s without a word, bound {session.dead_after_s:g} s"
            self._secure(session, f"its client fell silent ({bound})")

    def _send(self, identity: bytes, frames: list[Any]) -> None:
        if self._router is None:
            return
        try:
            self._router.send_multipart([identity, *frames], zmq.NOBLOCK, copy=False)
        except zmq.Again:
            log.info("a client is not reading its replies; one was dropped")

    def _reply(self, identity: bytes, frames: list[Any]) -> None:
        """Send a call's reply, or lose it as the fault plan says."""
        fault = self.faults.next_reply()
        time.sleep(fault.delay_s)
        if fault.drop:
            self.stats_.bump("replies_dropped")
            log.info("fault injection: dropped a reply")
        elif not (fault.disconnect or fault.restart):  # else the connection is cut before it
            self._send(identity, frames)
        if fault.disconnect or fault.restart:
            self._restart(fault)

    def _restart(self, fault: Fault) -> None:
        """Close the listening socket and bind the same endpoint again. libzmq closes a
        listener asynchronously, so the port can look busy for a moment; a port still busy
        after 5 s ends the server."""
        plan = self.faults.plan
        close_monitored(self._router, self._monitor)
        self._router = self._monitor = None
        self.stats_.bump("restarts" if fault.restart else "disconnects")
        if fault.restart:
            log.warning(
                "fault injection: server restart (down for %g ms%s)",
                plan.restart_downtime_ms,
                ", forgetting all sessions" if plan.forget_on_restart else "",
            )
            if plan.forget_on_restart:
                for session in self.dispatcher.forget_everything():
                    self._secure(session, "forgotten in a server restart")
            self._stopping.wait(plan.restart_downtime_ms / 1000.0)
        else:
            log.info("fault injection: connection cut")
        deadline = time.monotonic() + 5.0
        while self._router is None and not self._stopping.is_set():
            try:
                self._open_socket(self.endpoint)
            except LinkConfigError as error:
                if time.monotonic() > deadline:
                    log.error("could not listen again after a restart, stopping: %s", error)
                    self._stopping.set()
                self._stopping.wait(0.01)
        self.dispatcher.sessions.heard_all()  # the server was away, not its clients
