"""Sub-plans every beam step shares: select the current and unblank, as one piece."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from fibsims.engine import messages as m


def beam_on(current_na: float) -> Generator[m.Msg, Any, float]:
    """Select ``current_na`` and unblank; return the selected current. The caller blanks in a
    ``finally`` (``yield m.Blank()``) however its block ends."""
    current = yield m.SelectCurrent(current_na)
    yield m.Unblank()
    return float(current)
