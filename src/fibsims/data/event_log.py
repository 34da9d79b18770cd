"""The run's event log: every engine event as one JSON line in ``log.jsonl`` (structlog).

A per-run structlog logger writes to the run folder without touching global logging
configuration, so two runs in one process (tests) never mix their logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import structlog

from fibsims.engine.events import Event


class EventLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._log = structlog.wrap_logger(
            structlog.WriteLogger(self._file),
            processors=[
                structlog.processors.TimeStamper(fmt="iso", utc=True, key="wall_time"),
                structlog.processors.JSONRenderer(sort_keys=True),
            ],
        )

    def __call__(self, event: Event) -> None:
        fields = event.as_dict()
        name = fields.pop("event")
        self._log.info(name, **fields)
        self._file.flush()

    def message(self, name: str, **fields: object) -> None:
        """Log something that is not an engine event (a run-level note from the service)."""
        self._log.info(name, **fields)
        self._file.flush()

    def close(self) -> None:
        self._file.close()
