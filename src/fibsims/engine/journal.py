"""The progress journal: append-only JSON lines, each with its CRC-32, fsynced at every commit.

The journal is the single source of truth for which slices are done. A slice is appended only
after its data is durable, so a record in the journal always has its data.

Reading is strict, because a journal that silently stops early loses every slice after the
damage while the run looks complete:

- every record carries ``crc32`` over its canonical JSON, so damage is told from content;
- a bad record followed by good ones is corruption in the middle: :class:`JournalCorrupt`
  names the line and nothing is dropped silently;
- bad bytes after the last good record, with no good record after them, are a torn tail (a
  kill or power cut during an append, or the NUL padding a power cut leaves): reading ignores
  them and :meth:`Journal.repair` cuts them (keeping the bytes aside) before anything is
  appended, so a new record never lands on a fragment;
- a last record that is intact but lost its newline is kept and the newline restored.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKSUM_KEY = "crc32"


class JournalCorrupt(Exception):
    """A damaged record in the middle of the journal: resuming past it could lose slices."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(
            f"{path} line {line}: {problem}; the records after it cannot be trusted, so the "
            "run cannot continue from this journal. Restore the file from a backup, or copy "
            "the run folder and give the journal to a developer"
        )
        self.path = path
        self.line = line


def _checksum(entry: dict[str, Any]) -> str:
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return f"{zlib.crc32(canonical.encode('utf-8')):08x}"


def encode_record(entry: dict[str, Any]) -> bytes:
    """One journal line: the entry plus its checksum, newline-terminated."""
    body = {k: v for k, v in entry.items() if k != CHECKSUM_KEY}
    record = {**body, CHECKSUM_KEY: _checksum(body)}
    return (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def decode_record(raw: bytes) -> dict[str, Any] | None:
    """The entry of one line (without its checksum), or None when the line is damaged."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get(CHECKSUM_KEY), str):
        return None
    body = {k: v for k, v in record.items() if k != CHECKSUM_KEY}
    try:
        intact = _checksum(body) == record[CHECKSUM_KEY]
    except ValueError:  # NaN or infinity: never written by append
        return None
    return body if intact else None


@dataclass(frozen=True)
class JournalScan:
    """What is in the journal file: the good records and what follows them."""

    entries: list[dict[str, Any]]
    good_bytes: int
    """Length of the verified prefix, every record in it newline-terminated."""
    torn: bytes
    """Bytes after the verified prefix (a torn tail); empty when the file ends cleanly."""
    missing_newline: bool = False
    """The last record is intact but its newline was lost (kept; the newline is restored)."""

    @property
    def clean(self) -> bool:
        return not self.torn and not self.missing_newline


def scan_bytes(data: bytes, path: Path) -> JournalScan:
    """Split ``data`` into good records and a torn tail; raise on damage in the middle."""
    segments = data.split(b"\n")
    complete, fragment = segments[:-1], segments[-1]
    entries: list[dict[str, Any]] = []
    offset = 0
    for number, raw in enumerate(complete, start=1):
        entry = decode_record(raw)
        if entry is None:
            later = any(decode_record(r) is not None for r in (*complete[number:], fragment))
            if later:
                raise JournalCorrupt(path, number, _describe(raw))
            return JournalScan(entries, offset, data[offset:])
        entries.append(entry)
        offset += len(raw) + 1
    if not fragment:
        return JournalScan(entries, offset, b"")
    entry = decode_record(fragment)
    if entry is None:
        return JournalScan(entries, offset, fragment)
    entries.append(entry)
    return JournalScan(entries, offset, b"", missing_newline=True)


def _describe(raw: bytes) -> str:
    if not raw.strip(b"\x00 \t\r"):
        return "an empty or zero-filled record"
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "a record that is not JSON (damaged bytes)"
    if not isinstance(value, dict):
        return f"a record that is not a JSON object ({raw[:40].decode('utf-8', 'replace')!r})"
    if CHECKSUM_KEY not in value:
        return "a record without its checksum (edited by hand?)"
    return "a record whose checksum does not match its content (damaged or edited)"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: dict[str, Any]) -> None:
        """Append one entry and make it durable before returning.

        The caller has :meth:`repair` ed the file first (the run services do at every session
        start), so the record never lands on a torn fragment."""
        with open(self.path, "ab") as handle:
            handle.write(encode_record(entry))
            handle.flush()
            os.fsync(handle.fileno())

    def scan(self) -> JournalScan:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return JournalScan([], 0, b"")
        return scan_bytes(data, self.path)

    def entries(self) -> list[dict[str, Any]]:
        """Every good entry, in order; a torn tail is ignored, damage in the middle raises."""
        return self.scan().entries

    def committed_slices(self) -> list[int]:
        return [e["slice"] for e in self.entries() if e.get("entry") == "slice_committed"]

    def repair(self) -> JournalScan:
        """Make the file end cleanly before anything is appended; return what was found.

        A torn tail is copied to ``journal.jsonl.torn-<ns>`` (nothing is thrown away) and cut;
        a lost newline is restored. Both are durable (fsync) before this returns."""
        found = self.scan()
        if found.torn:
            aside = self.path.with_name(f"{self.path.name}.torn-{time.time_ns()}")
            aside.write_bytes(found.torn)
            with open(self.path, "rb+") as handle:
                handle.truncate(found.good_bytes)
                handle.flush()
                os.fsync(handle.fileno())
        elif found.missing_newline:
            with open(self.path, "ab") as handle:
                handle.write(b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        return found
