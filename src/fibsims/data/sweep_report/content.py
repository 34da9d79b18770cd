"""The words and tables of the sweep's page: what was varied, how each variant did.

Why apart from the HTML and the figures: :mod:`fibsims.data.report.page` knows nothing of
sweeps; this module knows nothing of markup, only which facts go where and how they read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import fibsims
from fibsims.data.report.content import number
from fibsims.data.report.figures.style import Saved
from fibsims.data.report.page import Page, Section, Table
from fibsims.data.sweep_report.labels import header
from fibsims.data.sweep_report.manifest import Sweep
from fibsims.data.sweep_report.ranking import Ranking
from fibsims.data.sweep_report.table import Row
from fibsims.data.sweep_report.table import Table as SweepTable
from fibsims.data.sweep_table import QUALITY_PREFIX

MAX_ERROR = 400
"""Characters of a failed variant's error shown in the table (its run folder has the rest)."""


def counts(rows: list[Row]) -> dict[str, int]:
    found: dict[str, int] = {"done": 0, "failed": 0, "pending": 0}
    for row in rows:
        found[row.status] = found.get(row.status, 0) + 1
    return found


def total_hours(rows: list[Row]) -> float:
    return sum(row.hours or 0.0 for row in rows)


def _facts(sweep: Sweep, table: SweepTable, ranking: Ranking) -> Table:
    found = counts(table.rows)
    tally = ", ".join(f"{n} {status}" for status, n in found.items())
    sha = f" (SHA-256 {sweep.recipe_sha256[:12]})" if sweep.recipe_sha256 else ""
    rows = [
        ["base recipe", sweep.recipe + sha],
        *[[f"varied {path}", ", ".join(str(v) for v in vals)] for path, vals in sweep.axes.items()],
        ["seeds", ", ".join(str(s) for s in sweep.seeds)],
        ["--set", "; ".join(sweep.sets) or "none"],
        [
            "objective",
            f"{sweep.objective} ({'higher' if ranking.maximise else 'lower'} is better)",
        ],
        ["variants", f"{len(table.rows)}: {tally}"],
        ["instrument time simulated", f"{number(total_hours(table.rows))} h over every variant"],
        ["kept", sweep.keep or "n/a"],
        ["sweep folder", str(sweep.folder)],
    ]
    return Table(["", ""], rows)


def _mb(value: float | None) -> str:
    return "" if value is None else number(value / 1e6)


def _cell(value: float | None, digits: int = 4) -> str:
    return "" if value is None else number(value, digits)


def breakable(name: str) -> str:
    """A long dotted or snake_case name that a narrow table header may wrap (a zero-width space
    after each dot and underscore)."""
    return name.replace(".", ".\u200b").replace("_", "_\u200b")


def _error(row: Row) -> str:
    return row.error if len(row.error) <= MAX_ERROR else row.error[:MAX_ERROR] + "..."


def _ranks(ranking: Ranking) -> dict[int, int]:
    scored = [r for r in ranking.rows if r.status == "done" and ranking.score(r) is not None]
    return {id(row): n + 1 for n, row in enumerate(scored)}


def variant_table(table: SweepTable, ranking: Ranking) -> Table:
    """Every variant, best first: what was varied, the objective, the cost, the error."""
    objective = [ranking.objective] if ranking.objective else []
    head = [
        "rank",
        "variant",
        "status",
        "error",
        "seed",
        *[breakable(header(p)) for p in table.varied],
        *[breakable(f"objective: {header(q)}") for q in objective],
        "front",
        "instrument time (h)",
        "simulated (s)",
        "slices done",
        "data (MB)",
    ]
    front, ranks = {id(row) for row in ranking.front}, _ranks(ranking)
    rows = [
        [
            str(ranks.get(id(row), "")),
            row.variant,
            row.status,
            _error(row),
            row.seed,
            *[row.values[p] for p in table.varied],
            *[_cell(row.quality.get(q)) for q in objective],
            "yes" if id(row) in front else "",
            _cell(row.hours),
            _cell(row.measures.get("simulated_seconds"), 6),
            _cell(row.measures.get("slices_done")),
            _mb(row.measures.get("data_bytes")),
        ]
        for row in ranking.rows
    ]
    start = 5 + len(table.varied)
    numeric = set(range(start, start + len(objective))) | set(
        range(start + len(objective) + 1, len(head))
    )
    caption = (
        "Done variants ranked by the objective (best first), then failed and pending ones; "
        "front: on the Pareto front of instrument time against the objective."
    )
    return Table(head, rows, numeric, caption)


def quality_table(table: SweepTable, ranking: Ranking) -> tuple[Table | None, list[str]]:
    """Every quality metric of every variant that has one, in the same order; a metric empty
    in every row is left out, and said so."""
    empty = [q for q in table.quality if all(row.quality.get(q) is None for row in table.rows)]
    shown = [q for q in table.quality if q not in empty]
    notes = (
        [f"Quality metrics with no value in any variant are left out: {', '.join(empty)}."]
        if empty
        else []
    )
    rows = [row for row in ranking.rows if any(row.quality.get(q) is not None for q in shown)]
    if not shown or not rows:
        return None, notes
    head = ["variant", *[breakable(header(q.removeprefix(QUALITY_PREFIX))) for q in shown]]
    body = [[row.variant, *[_cell(row.quality.get(q)) for q in shown]] for row in rows]
    caption = (
        "Every quality metric (sweep.csv's quality.<name> columns, each run's summary.json "
        "quality), variants in the order above."
    )
    return Table(head, body, set(range(1, len(head))), caption), notes


def build_page(
    sweep: Sweep,
    table: SweepTable,
    ranking: Ranking,
    pareto: Saved | None,
    maps: Saved | None,
    notes: list[str],
    map_notes: list[str],
) -> Page:
    variants = variant_table(table, ranking)
    metrics, table_notes = quality_table(table, ranking)
    name = Path(sweep.recipe).stem or sweep.recipe
    axes = "; ".join(f"{p} = {', '.join(str(v) for v in vals)}" for p, vals in sweep.axes.items())
    sections = [
        Section(
            "variants",
            "Variants",
            tables=[variants, *([metrics] if metrics else [])],
            notes=table_notes,
        ),
        Section(
            "pareto",
            "Quality against time",
            figures=[pareto] if pareto else [],
            notes=[] if pareto else ["No done variant has both a score and its hours: no plot."],
        ),
        Section(
            "maps",
            "Best maps",
            figures=[maps] if maps else [],
            notes=map_notes or ([] if maps else ["No 7Li+ preview to show."]),
        ),
    ]
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Page(
        title=f"{name}: sweep comparison",
        lead=(
            f"{sweep.folder.name}: {len(table.rows)} variants of {sweep.recipe} over "
            f"{axes or 'seeds only'}."
        ),
        facts=_facts(sweep, table, ranking),
        notes=notes,
        sections=sections,
        footer=f"Made by fibsims {fibsims.__version__} report on {made} from {sweep.folder}.",
    )
