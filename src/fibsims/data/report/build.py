"""``DIR/report/``: the analysis, the figures and the page, written as one folder.

Why a new folder swapped in whole: a report is read while it may be remade (a browser left
open, a second ``fibsims report``); figures written over the old ones one by one could pair a
new page with old images. The report is built in a hidden sibling and renamed into place, the
old one renamed away first and deleted after.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fibsims.data.report.analysis import Analysis, analyse
from fibsims.data.report.comparison import Score
from fibsims.data.report.content import build_page
from fibsims.data.report.drawing import draw_all
from fibsims.data.report.errors import ReportError
from fibsims.data.report.figures.style import Saved
from fibsims.data.report.page import INDEX, render
from fibsims.data.report.progress import Progress, no_progress
from fibsims.data.report.record import read_record
from fibsims.data.report.sources import find_sources
from fibsims.data.report.timing import read_timing
from fibsims.data.run_reader import RunData

REPORT_DIR = "report"
RUN_FILE = "run.h5"
NUMBERS = "report.json"


@dataclass
class Report:
    folder: Path
    index: Path
    figures: list[Saved]
    scores: list[Score] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _strict(value: Any) -> Any:
    """NaN and infinities as null: report.json stays strict JSON for any reader."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _numbers(analysis: Analysis) -> dict[str, Any]:
    """What the page shows as numbers, for a script (report.json)."""
    survey = analysis.survey
    return _strict(
        {
            "binning": asdict(analysis.stacks.binning),
            "particles": [asdict(p) for p in analysis.table],
            "crack_share": survey.crack_share if survey else None,
            "crack_slices": survey.slices if survey else [],
            "scores": {s.name: s.value for s in analysis.scores},
        }
    )


def swap_in(built: Path, target: Path) -> None:
    """Put the folder ``built`` where ``target`` is, the old one renamed away first."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def _write(run_folder: Path, out: Path, progress: Progress) -> Report:
    record = read_record(run_folder)
    with RunData(run_folder / RUN_FILE) as run:
        if run.slices == 0:
            raise ReportError(f"{run_folder / RUN_FILE} holds no slices: nothing to report")
        sources = find_sources(run)
        if sources.image is None and not sources.li:
            raise ReportError(
                f"{run_folder / RUN_FILE} holds neither an SE image nor a 7Li+ map: nothing to draw"
            )
        analysis = analyse(run, sources, progress)
        timing = read_timing(run, record.summary)
        incident_slices = sorted({i.slice for i in record.incidents if i.slice is not None})
        drawn = draw_all(run, analysis, timing, incident_slices, out, progress)
        page = build_page(run, run_folder, analysis, record, timing, drawn)
    (out / INDEX).write_text(render(page, out), encoding="utf-8")
    (out / NUMBERS).write_text(
        json.dumps(_numbers(analysis), indent=2, default=float, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    saved = [s for group in drawn.figures.values() for s in group]
    return Report(out, out / INDEX, saved, analysis.scores, page.notes)


def build_report(run_folder: Path, progress: Progress = no_progress) -> Report:
    """Write ``run_folder/report/`` (index.html, its PNG figures, report.json) from run.h5,
    summary.json and log.jsonl. Raises :class:`ReportError` when there is nothing to draw."""
    start = time.monotonic()
    target = run_folder / REPORT_DIR
    built = run_folder / f".{REPORT_DIR}.new-{os.getpid()}-{secrets.token_hex(4)}"
    built.mkdir()
    try:
        report = _write(run_folder, built, progress)
        swap_in(built, target)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    report.folder, report.index = target, target / INDEX
    report.seconds = time.monotonic() - start
    return report
