"""Server-side state: open sessions, the reply cache that de-duplicates calls, and counters.

Why a reply cache: a reply can be lost after the instrument acted (the mill is done, the
network dropped the answer). The client then resends the same call id; the server must answer
from the cache, not mill again. The cache is bounded by entries and bytes; a client only ever
retries its latest call, so a few replies per session are enough.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fibsims.instrument.interfaces import Instrument

CacheKey = tuple[str, str]  # (session id or "" before a session exists, call id)


@dataclass
class Session:
    id: str
    instrument: Instrument


class SessionTable:
    """Open sessions, least recently used first; the oldest is closed beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, instrument: Instrument) -> tuple[Session, list[Session]]:
        session = Session(id=uuid.uuid4().hex[:16], instrument=instrument)
        with self._lock:
            self._sessions[session.id] = session
            evicted = []
            while len(self._sessions) > self.limit:
                evicted.append(self._sessions.popitem(last=False)[1])
        return session, evicted

    def get(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions.move_to_end(session_id)
            return session

    def remove(self, session_id: str) -> Session | None:
        with self._lock:
            return self._sessions.pop(session_id, None)

    def clear(self) -> list[Session]:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        return sessions

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


class ReplyCache:
    """Replies of non-idempotent calls, keyed by (session, call id), bounded in size."""

    def __init__(self, max_entries: int = 256, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[CacheKey, tuple[list[Any], int]] = OrderedDict()
        self._bytes = 0

    def put(self, key: CacheKey, frames: list[Any]) -> None:
        size = sum(memoryview(f).nbytes for f in frames)
        if key in self._entries:
            self._bytes -= self._entries.pop(key)[1]
        self._entries[key] = (frames, size)
        self._bytes += size
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_entries or self._bytes > self.max_bytes
        ):
            self._bytes -= self._entries.popitem(last=False)[1][1]

    def get(self, key: CacheKey) -> list[Any] | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


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
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, amount: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def count(self, counter: str, key: str) -> None:
        with self.lock:
            getattr(self, counter)[key] += 1

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "executed": dict(self.executed),
                "errors": dict(self.errors),
                "calls_received": self.calls_received,
                "duplicates_suppressed": self.duplicates_suppressed,
                "replies_dropped": self.replies_dropped,
                "disconnects": self.disconnects,
                "restarts": self.restarts,
                "refused_clients": self.refused_clients,
                "sessions_opened": self.sessions_opened,
            }
