"""The progress journal: an append-only JSON-lines file, fsynced at every commit.

The journal is the single source of truth for which slices are done. A slice is appended only
after its data is durable, so a line in the journal always has its data; a torn last line
(killed mid-write) is ignored on reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: dict[str, Any]) -> None:
        """Append one entry and make it durable before returning."""
        line = json.dumps(entry, sort_keys=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> list[dict[str, Any]]:
        """All complete entries, in order; a torn trailing line is dropped."""
        if not self.path.exists():
            return []
        entries = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(raw))
            except json.JSONDecodeError:
                break
        return entries

    def committed_slices(self) -> list[int]:
        return [e["slice"] for e in self.entries() if e.get("entry") == "slice_committed"]
