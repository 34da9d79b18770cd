"""Server-side state: open sessions, the reply cache that de-duplicates calls, and counters.

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

import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from fibsims.instrument.interfaces import Instrument

log = logging.getLogger("fibsims.link.server")
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
