"""``DIR/sweep.csv``: one row per variant, as the sweep wrote it.

Why every row must have every field: the sweep rewrites the table as variants finish, so a row
cut short is a table caught half written (or damaged); its numbers cannot be told apart from
the next column's, and the report refuses it, naming the line, rather than misplace a score.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from fibsims.data.report.errors import ReportError
from fibsims.data.sweep_folder import TABLE
from fibsims.data.sweep_report.manifest import rerun
from fibsims.data.sweep_table import LEADING, MEASURES, QUALITY_PREFIX


@dataclass
class Row:
    line: int
    variant: str
    run_dir: str
    status: str
    error: str
    seed: str
    values: dict[str, str]
    """The varied paths' cells, as written."""
    measures: dict[str, float | None]
    quality: dict[str, float | None]
    """Every ``quality.<name>`` column by its full name; None where the cell is empty."""

    @property
    def hours(self) -> float | None:
        return self.measures.get("instrument_hours")


@dataclass
class Table:
    path: Path
    varied: list[str]
    quality: list[str]
    rows: list[Row] = field(default_factory=list)


def _number(path: Path, line: int, column: str, cell: str) -> float | None:
    if cell.strip() == "":
        return None
    try:
        value = float(cell)
    except ValueError:
        raise ReportError(
            f"{path} line {line}: {column} is {cell!r}, not a number; the table is damaged: "
            + rerun(path.parent)
        ) from None
    return value if math.isfinite(value) else None


def read_table(folder: Path) -> Table:
    """The table of ``folder``; :class:`ReportError` naming the file (and line) when it is
    missing, torn or not this layout."""
    path = folder / TABLE
    if not path.is_file():
        raise ReportError(
            f"{path} is missing: the sweep writes its table as variants finish; {rerun(folder)}"
        )
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, strict=True))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ReportError(f"{path} cannot be read as CSV ({error}); {rerun(path.parent)}") from None
    if not lines:
        raise ReportError(f"{path} is empty: no header; {rerun(path.parent)}")
    header = lines[0]
    if tuple(header[: len(LEADING)]) != LEADING or not set(MEASURES) <= set(header):
        raise ReportError(
            f"{path} is not a sweep table: its header must start {', '.join(LEADING)} and hold "
            f"{', '.join(MEASURES)} (it has {', '.join(header[:8]) or 'nothing'}); "
            + rerun(path.parent)
        )
    first_measure = min(header.index(m) for m in MEASURES)
    varied = header[len(LEADING) : first_measure]
    quality = [h for h in header if h.startswith(QUALITY_PREFIX)]
    table = Table(path, varied, quality)
    for number, cells in enumerate(lines[1:], start=2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise ReportError(
                f"{path} line {number} has {len(cells)} of {len(header)} fields: the table is "
                f"torn (written while the sweep stopped?); {rerun(path.parent)}"
            )
        cell = dict(zip(header, cells, strict=True))
        table.rows.append(
            Row(
                line=number,
                variant=cell["variant"],
                run_dir=cell["run_dir"],
                status=cell["status"].strip() or "pending",
                error=cell["error"],
                seed=cell["seed"],
                values={p: cell[p] for p in varied},
                measures={m: _number(path, number, m, cell[m]) for m in MEASURES},
                quality={q: _number(path, number, q, cell[q]) for q in quality},
            )
        )
    return table
