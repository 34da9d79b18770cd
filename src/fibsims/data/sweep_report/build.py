"""``DIR/report/`` of a sweep folder: the table, the Pareto figure, the best maps, one page.

Why the run report's folder and page: a sweep's report is opened, moved and remade the way a
run's is (built in a hidden sibling, swapped in whole; figures as PNG files beside the page;
``report.json`` for scripts), so one habit serves both.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from fibsims.data.report.build import NUMBERS, REPORT_DIR, Report, swap_in
from fibsims.data.report.figures.style import Saved
from fibsims.data.report.page import INDEX, render
from fibsims.data.report.progress import Progress, no_progress
from fibsims.data.sweep_report import maps, pareto
from fibsims.data.sweep_report.content import build_page, counts, total_hours
from fibsims.data.sweep_report.labels import values
from fibsims.data.sweep_report.manifest import Sweep, read_sweep
from fibsims.data.sweep_report.previews import read_preview
from fibsims.data.sweep_report.ranking import Ranking, rank
from fibsims.data.sweep_report.table import MEASURES, Row, Table, read_table

DEFAULT_BEST = 3
PARETO_FILE = "pareto.png"
MAPS_FILE = "best_maps.png"


def _add_unstarted(sweep: Sweep, table: Table) -> list[str]:
    """Add, as pending rows, the variants sweep.json lists and sweep.csv does not have yet (a
    table written before they started); say so."""
    listed = {row.variant for row in table.rows}
    absent = [v for v in sweep.variants if v.id not in listed]
    for variant in absent:
        table.rows.append(
            Row(
                line=0,
                variant=variant.id,
                run_dir=variant.run_dir,
                status="pending",
                error="",
                seed="" if variant.seed is None else str(variant.seed),
                values={p: _written(variant.values.get(p, "")) for p in table.varied},
                measures={m: None for m in MEASURES},
                quality={q: None for q in table.quality},
            )
        )
    if not absent:
        return []
    shown = ", ".join(v.id for v in absent[:8]) + (" ..." if len(absent) > 8 else "")
    return [
        f"{len(absent)} variant(s) of {sweep.folder / 'sweep.json'} have no row in "
        f"{table.path.name} yet (not started), shown as pending: {shown}."
    ]


def _written(value: Any) -> str:
    """A sweep.json value the way the table's cells write it."""
    return (
        json.dumps(value) if isinstance(value, list | dict | bool) or value is None else str(value)
    )


def _panel_title(row: Row, ranking: Ranking) -> str:
    score = ranking.score(row)
    hours = row.hours
    return "\n".join(
        [
            values(row),
            f"seed {row.seed}" + (f", {hours:.3g} h" if hours is not None else ""),
            f"score {score:.4g}" if score is not None else "no score",
        ]
    )


def _maps(
    sweep: Sweep, ranking: Ranking, folder: Path
) -> tuple[Saved | None, list[str], list[str]]:
    panels, notes, shown = [], [], []
    for row in ranking.best:
        preview = read_preview(sweep.folder, row.run_dir or f"variants/{row.variant}")
        if preview.note:
            notes.append(f"{row.variant}: {preview.note}.")
        if preview.li is None:
            continue
        panels.append(maps.Panel(_panel_title(row, ranking), preview.li, preview.truth))
        shown.append(row.variant)
    by = (
        f"the best {len(ranking.best)} done variants by {ranking.objective}"
        if ranking.best and ranking.score(ranking.best[0]) is not None
        else "the first done variants (none has a score)"
    )
    caption = (
        f"7Li+ counts per SIMS pixel on the middle acquired slice of {by}, left to right: "
        + "; ".join(shown)
        + ". Each map is coloured over its own 1st to 99.5th percentile of counts (the "
        "variants' dwell, frames and current differ, so their counts do), each with its colour "
        "bar; below, the true Li atomic fraction on the same pixels where the twin recorded it, "
        "on one shared scale. Titles: varied values, seed, instrument hours, objective score."
    )
    saved = maps.draw(panels, folder, MAPS_FILE, caption) if panels else None
    return saved, notes, shown


def _numbers(sweep: Sweep, table: Table, ranking: Ranking, shown: list[str]) -> dict[str, Any]:
    return {
        "objective": ranking.objective,
        "direction": "max" if ranking.maximise else "min",
        "counts": counts(table.rows),
        "instrument_hours_total": total_hours(table.rows),
        "order": [row.variant for row in ranking.rows],
        "best": [row.variant for row in ranking.best],
        "maps": shown,
        "front": [row.variant for row in ranking.front],
        "scores": {row.variant: ranking.score(row) for row in ranking.rows},
    }


def _write(sweep_folder: Path, out: Path, best: int, progress: Progress) -> Report:
    progress("reading the sweep", 0, 2)
    sweep = read_sweep(sweep_folder)
    table = read_table(sweep_folder)
    progress("reading the sweep", 1, 2)
    pending = _add_unstarted(sweep, table)
    ranking = rank(sweep, table, best)
    progress("reading the sweep", 2, 2)
    progress("drawing figures", 0, 2)
    several = len(sweep.seeds) > 1
    drawn = (
        pareto.draw(
            ranking,
            several,
            out,
            PARETO_FILE,
            f"{ranking.objective} of each done variant against its instrument time; orange: the "
            "Pareto front (no other variant is as good in less time), joined as a staircase. "
            "Labels: the varied values" + (" and seed" if several else "") + ".",
        )
        if ranking.objective
        else None
    )
    progress("drawing figures", 1, 2)
    best_maps, map_notes, shown = _maps(sweep, ranking, out)
    progress("drawing figures", 2, 2)
    notes = [*ranking.notes, *pending]
    page = build_page(sweep, table, ranking, drawn, best_maps, notes, map_notes)
    (out / INDEX).write_text(render(page, out), encoding="utf-8")
    (out / NUMBERS).write_text(
        json.dumps(_numbers(sweep, table, ranking, shown), indent=2) + "\n", encoding="utf-8"
    )
    figures = [s for s in (drawn, best_maps) if s is not None]
    return Report(out, out / INDEX, figures, notes=[*notes, *map_notes])


def build_sweep_report(
    sweep_folder: Path, best: int = DEFAULT_BEST, progress: Progress = no_progress
) -> Report:
    """Write ``sweep_folder/report/`` (index.html, its figures, report.json) from sweep.json,
    sweep.csv and the variants' previews. Raises ReportError when those cannot be read."""
    start = time.monotonic()
    target = sweep_folder / REPORT_DIR
    built = sweep_folder / f".{REPORT_DIR}.new-{os.getpid()}-{secrets.token_hex(4)}"
    built.mkdir()
    try:
        report = _write(sweep_folder, built, best, progress)
        swap_in(built, target)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    report.folder, report.index = target, target / INDEX
    report.seconds = time.monotonic() - start
    return report
