"""Scheduled tasks as steps: what the plan puts into a slice on an ``every:`` schedule.

A task runs at the current of the imaging step it precedes (no extra current change), so its
model carries that current and the scan it tunes for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fibsims.instrument.types import ScanRequest


@dataclass(frozen=True)
class ScheduledStep:
    kind: str
    current_na: float
    scan: ScanRequest | None = None
    """The imaging scan that follows (auto contrast tunes the detector for it)."""

    optional: ClassVar[bool] = True
