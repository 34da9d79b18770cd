"""Which variant is best: the order of the table, the best few, and the Pareto front.

Why done variants only: a failed variant's partial score measures a run that did not finish, and
a pending one has none. The front is of instrument hours (fewer is better) against the
objective (better higher or lower: sweep.json's ``direction``, else the metric's name, as
:func:`fibsims.data.pareto.higher_is_better` reads it): a variant is on it when no other is at
least as good on both and better on one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims.data.pareto import Point, pareto_front
from fibsims.data.sweep_report.manifest import Sweep
from fibsims.data.sweep_report.table import Row, Table
from fibsims.data.sweep_table import QUALITY_PREFIX

STATUS_ORDER = {"done": 0, "failed": 1, "pending": 2}


@dataclass
class Ranking:
    objective: str | None
    """The table column scored; None when sweep.csv has no such column."""
    maximise: bool
    rows: list[Row]
    """Every row: done ones best first (unscored after), then failed, pending, any other."""
    best: list[Row]
    front: list[Row]
    notes: list[str] = field(default_factory=list)

    def score(self, row: Row) -> float | None:
        return row.quality.get(self.objective) if self.objective else None


def objective_column(sweep: Sweep, table: Table) -> str | None:
    """The column of sweep.json's objective (``quality.`` may be left out there)."""
    for name in (sweep.objective, QUALITY_PREFIX + sweep.objective):
        if name in table.quality:
            return name
    return None


def rank(sweep: Sweep, table: Table, best: int) -> Ranking:
    column = objective_column(sweep, table)
    maximise = sweep.direction == "max"
    notes = []
    if column is None:
        notes.append(
            f"The objective {sweep.objective} is not a column of {table.path.name} (its quality "
            f"columns: {', '.join(table.quality) or 'none'}): the table is in sweep order, with "
            "no Pareto plot; the maps show the first done variants."
        )

    def score(row: Row) -> float | None:
        return row.quality.get(column) if column else None

    def key(item: tuple[int, Row]) -> tuple[int, int, float, int]:
        n, row = item
        value = score(row)
        status = STATUS_ORDER.get(row.status, 3)
        if status != 0 or value is None:
            return status, 1, 0.0, n
        return status, 0, -value if maximise else value, n

    ordered = [row for _, row in sorted(enumerate(table.rows), key=key)]
    done = [row for row in ordered if row.status == "done"]
    scored = [row for row in done if score(row) is not None]
    if not done:
        notes.append("No variant is done: nothing to compare yet, no Pareto plot and no maps.")
    elif column is not None and not scored:
        notes.append(
            f"No done variant has a value of {column} (every cell is empty): the table is in "
            "sweep order, with no Pareto plot; the maps show the first done variants."
        )
    chosen = (scored or done)[:best]
    points = [
        Point(r.variant, hours, value)
        for r in scored
        if (hours := r.hours) is not None and (value := score(r)) is not None
    ]
    on_front = {p.label for p in pareto_front(points, maximise)}
    front = [r for r in ordered if r.variant in on_front]
    return Ranking(column, maximise, ordered, chosen, front, notes)
