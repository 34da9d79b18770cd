"""The words and tables of the page: what the run was, what it found, what went wrong.

Why apart from the HTML: the page's markup (:mod:`.page`) knows nothing of runs; this module
knows nothing of markup, only which facts go in which section and how numbers are written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

import fibsims
from fibsims.data.report.analysis import Analysis
from fibsims.data.report.drawing import Drawn
from fibsims.data.report.page import Page, Section, Table
from fibsims.data.report.record import RunRecord
from fibsims.data.report.timing import Timing
from fibsims.data.run_reader import RunData

MAX_PARTICLE_ROWS = 60


def number(value: Any, digits: int = 3) -> str:
    """A number as a reader wants it: n/a for None or NaN, few digits, no float noise."""
    if value is None or isinstance(value, bool):
        return "n/a" if value is None else str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "n/a"
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _facts(run: RunData, record: RunRecord, folder: Path) -> Table:
    attrs, summary = run.attrs, record.summary or {}
    status = str(summary.get("status", attrs.get("status", "unknown")))
    reason = summary.get("reason") or ""
    missing = int(np.count_nonzero(run.missing))
    rows = [
        ["recipe", str(attrs.get("recipe_name", summary.get("recipe", "?")))],
        ["status", status + (f" ({reason})" if reason else "")],
        [
            "slices",
            f"{run.slices} committed of {attrs.get('slices_planned', '?')} planned"
            + (f", {missing} missing" if missing else ""),
        ],
        [
            "instrument time",
            f"{number(summary.get('simulated_hours'))} h"
            if "simulated_hours" in summary
            else "n/a (no summary.json)",
        ],
        [
            "wall time",
            f"{number(summary.get('wall_seconds'))} s" if "wall_seconds" in summary else "n/a",
        ],
        ["instrument", str(attrs.get("instrument", "?"))],
        ["seed", str(attrs.get("seed", "?"))],
        ["run folder", str(folder)],
        ["run by", f"fibsims {attrs.get('fibsims_version', '?')}"],
    ]
    return Table(["", ""], rows)


def _volume_intro(run: RunData, analysis: Analysis) -> str:
    parts = []
    sources, z = analysis.sources, run.face_z_um[~run.missing]
    if sources.image:
        f = run.field(sources.image)
        parts.append(
            f"SE image {f.width_px} x {f.height_px} px of {f.pixel_size_nm:.1f} nm "
            f"({f.width_um:.1f} x {f.height_um:.1f} um)"
        )
    if sources.li and sources.raster:
        f = run.field(sources.raster)
        parts.append(
            f"7Li+ map {f.width_px} x {f.height_px} px of {f.pixel_size_nm:.1f} nm "
            f"({f.width_um:.1f} x {f.height_um:.1f} um)"
        )
    if z.size:
        pitch = (
            f", {1000 * (z.max() - z.min()) / (z.size - 1):.1f} nm apart on average"
            if z.size > 1
            else ""
        )
        parts.append(f"{z.size} faces from z = {z.min():.3f} to {z.max():.3f} um{pitch}")
    b = analysis.stacks.binning
    parts.append(f"3D analysis on the SE image binned {b.xy} x {b.xy}, {b.z} slice(s) a plane")
    return "; ".join(parts) + "."


def _particle_table(analysis: Analysis) -> list[Table]:
    table = sorted(analysis.table, key=lambda p: -p.volume_um3)
    if not table:
        return []
    truth = any(p.li_true is not None for p in table)
    header = [
        "particle",
        "volume (um3)",
        "centre x, y, z (um)",
        "mean 7Li+ per pixel",
        *(["true Li fraction"] if truth else []),
        "cut by the edge",
    ]
    rows = [
        [
            str(p.label),
            number(p.volume_um3),
            ", ".join(f"{c:.1f}" for c in p.centroid_um),
            number(p.li_counts),
            *([number(p.li_true)] if truth else []),
            "yes" if p.cut else "",
        ]
        for p in table[:MAX_PARTICLE_ROWS]
    ]
    caption = f"{len(table)} particles of at least 0.5 um3, largest first"
    return [Table(header, rows, {1, 3, 4} if truth else {1, 3}, caption)]


def _crack_notes(analysis: Analysis) -> list[str]:
    survey = analysis.survey
    if survey is None or survey.crack_share is None:
        return []
    return [
        f"Cracks and internal pores (epoxy inside particles) take {100 * survey.crack_share:.2f}"
        f" % of the particles' sections on {len(survey.slices)} slices examined at full "
        "resolution."
    ]


def _incidents(record: RunRecord, run: RunData) -> Section:
    summary = record.summary or {}
    section = Section("incidents", "Incidents and quality")
    counts = summary.get("incidents")
    if isinstance(counts, dict):
        section.tables.append(
            Table(
                ["incident", "count"],
                [[k, number(v)] for k, v in counts.items()],
                {1},
                "incidents over every session (summary.json)",
            )
        )
    if record.incidents or record.stops:
        rows = [
            [
                f"{i.t_s / 3600:.3f}",
                i.what,
                "" if i.slice is None else str(i.slice),
                i.kind,
                i.detail,
            ]
            for i in [*record.incidents, *record.stops]
        ]
        caption = "from log.jsonl"
        if record.incidents_total > len(record.incidents):
            caption += f" (the first {len(record.incidents)} of {record.incidents_total})"
        section.tables.append(
            Table(["time (h)", "what", "slice", "step", "detail"], rows, {0}, caption)
        )
    else:
        section.intro = "No step was retried, skipped or held; the run never stopped on the way."
    missing = [int(i) for i in np.flatnonzero(run.missing)]
    if missing:
        listed = ", ".join(map(str, missing))
        section.notes.append(f"Slices missing (committed, data lost after): {listed}.")
    else:
        section.intro = f"{section.intro} No slice is missing.".strip()
    quality = summary.get("quality")
    if isinstance(quality, dict) and quality:
        section.tables.append(
            Table(
                ["quality (summary.json)", "value"],
                [[k, number(v, 4)] for k, v in quality.items()],
                {1},
                "the closed loops and the 7Li+ map scored by the run",
            )
        )
    return section


def _time(timing: Timing, figures: Drawn) -> Section:
    total = sum(timing.budget_s.values())
    rows = [
        [k, f"{v / 3600.0:.3f}", f"{100 * v / total:.1f}" if total else "n/a"]
        for k, v in timing.budget_s.items()
    ]
    return Section(
        "time",
        "Time",
        figures=figures["time"],
        tables=[Table(["step kind", "hours", "%"], rows, {1, 2}, f"from {timing.budget_source}")],
    )


def build_page(
    run: RunData,
    folder: Path,
    analysis: Analysis,
    record: RunRecord,
    timing: Timing,
    figures: Drawn,
) -> Page:
    name = str(run.attrs.get("recipe_name", folder.name))
    sections = [
        Section("volume", "Volume", _volume_intro(run, analysis), figures["volume"]),
        Section("overlay", "7Li+ on SE", figures=figures["overlay"]),
        Section(
            "cutaway",
            "3D",
            figures=figures["cutaway"],
            notes=figures.notes["cutaway"],
        ),
        Section(
            "particles",
            "Particles",
            figures=figures["particles"],
            tables=_particle_table(analysis),
            notes=_crack_notes(analysis),
        ),
    ]
    if analysis.scores:
        sections.append(
            Section(
                "truth",
                "Truth",
                "This run was made on the digital twin with --truth: its "
                "ground truth scores what the instrument settings and the segmentation recovered.",
                figures["truth"],
                [
                    Table(
                        ["score", "value", "over"],
                        [[s.name, number(s.value, 4), s.meaning] for s in analysis.scores],
                        {1},
                    )
                ],
            )
        )
    sections += [
        _time(timing, figures),
        _incidents(record, run),
        Section(
            "recipe",
            "Recipe",
            "The recipe exactly as it was run.",
            pre=str(run.attrs.get("recipe", "(not recorded)")),
        ),
    ]
    sections = [s for s in sections if s.figures or s.tables or s.pre or s.notes or s.intro]
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Page(
        title=f"{name}: slice-and-view report",
        lead=f"{folder.name}: what the run imaged, the lithium it mapped, where its time went.",
        facts=_facts(run, record, folder),
        notes=[*record.notes, *analysis.sources.notes, *analysis.notes],
        sections=sections,
        footer=f"Made by fibsims {fibsims.__version__} report on {made} from {run.path}.",
    )
