"""Where the instrument's time went: per step kind over the run, and slice by slice.

Why both: the budget (``summary.json`` ``step_seconds``) says what to change to shorten a run
(the default recipe spends a third of its 23 h in the SIMS raster and another third polishing);
the per-slice line (run.h5's slice and step tables) shows when it changed: scheduled autofocus
and contrast, retries and holds, a slow-down with depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fibsims.data.run_reader import RunData

GANTT_SLICES = 3


@dataclass(frozen=True)
class Step:
    slice: int
    kind: str
    started_s: float
    duration_s: float


@dataclass
class Timing:
    budget_s: dict[str, float]
    """Instrument seconds per step kind, largest first."""
    budget_source: str
    slice_index: np.ndarray
    started_h: np.ndarray
    duration_min: np.ndarray
    per_kind_min: dict[str, np.ndarray]
    """Minutes each slice spent in each step kind."""
    first_steps: list[Step] = field(default_factory=list)
    """The steps of the first few slices, for a Gantt chart."""


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_timing(run: RunData, summary: dict[str, Any] | None) -> Timing:
    table = run.table[()]
    steps = run.steps[()]
    n = int(table.shape[0])
    kinds = [_text(k) for k in steps["kind"]]
    per_kind: dict[str, np.ndarray] = {}
    for kind, index, duration in zip(kinds, steps["slice"], steps["duration_s"], strict=True):
        row = per_kind.setdefault(kind, np.zeros(n))
        if 0 <= int(index) < n:
            row[int(index)] += float(duration) / 60.0
    recorded = summary.get("step_seconds") if summary else None
    if isinstance(recorded, dict) and recorded:
        budget = {str(k): float(v) for k, v in recorded.items() if isinstance(v, int | float)}
        source = "summary.json step_seconds"
    else:
        budget = {kind: float(row.sum() * 60.0) for kind, row in per_kind.items()}
        source = "run.h5 step table (summary.json has no step_seconds)"
    budget = dict(sorted(budget.items(), key=lambda item: -item[1]))
    first = [
        Step(int(s), k, float(t), float(d))
        for s, k, t, d in zip(
            steps["slice"], kinds, steps["started_s"], steps["duration_s"], strict=True
        )
        if int(s) < GANTT_SLICES
    ]
    missing = np.asarray(table["missing"], dtype=bool)
    started = np.where(missing, np.nan, np.asarray(table["started_s"], dtype=np.float64))
    duration = np.where(missing, np.nan, np.asarray(table["duration_s"], dtype=np.float64))
    return Timing(
        budget_s=budget,
        budget_source=source,
        slice_index=np.asarray(table["index"], dtype=np.int64),
        started_h=started / 3600.0,
        duration_min=duration / 60.0,
        per_kind_min=per_kind,
        first_steps=first,
    )
