"""How the report tells its progress: ``progress(stage, done, total)``, called often.

Why a plain callable: the data layer must not draw anything; the service turns these calls
into a progress bar (or nothing, with ``--no-progress``), a test into a list.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """Progress that goes nowhere."""
