"""Virtual instrument time: the twin's actions advance it by what their models say they take.

Why virtual: a 23-hour run must finish in seconds and still be timed honestly, so every device
calls :meth:`VirtualClock.sleep` with its modelled duration instead of waiting on the wall.
"""

from __future__ import annotations

import math

from fibsims.instrument import Clock


class VirtualClock(Clock):
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start_s: float = 0.0) -> None:
        if not math.isfinite(start_s) or start_s < 0:
            raise ValueError(f"start_s must be a finite, non-negative time, got {start_s!r}")
        self._now_s = float(start_s)

    def now_s(self) -> float:
        return self._now_s

    def sleep(self, seconds: float) -> None:
        """Advance virtual time by ``seconds`` (negative or non-finite -> ``ValueError``)."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(
                f"cannot sleep {seconds!r} s: a duration must be finite and non-negative"
            )
        self._now_s += float(seconds)
