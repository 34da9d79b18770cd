"""The time figures: the budget by step kind, and the per-slice time line.

Why one colour per step kind across both: a reader finds the SIMS raster's share in the budget
and then its slices in the time line without reading a legend twice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fibsims.data.report.figures import style
from fibsims.data.report.timing import Timing

PALETTE = [
    "#3b6fb6",
    "#e07b39",
    "#5aa469",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#8c8c8c",
    "#ccb974",
    "#64b5cd",
]


def kind_colours(timing: Timing) -> dict[str, str]:
    kinds = list(timing.budget_s) + [k for k in timing.per_kind_min if k not in timing.budget_s]
    return {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(kinds)}


def duration(hours: float) -> str:
    return f"{hours:.2f} h" if hours >= 0.1 else f"{hours * 60:.1f} min"


def percent(part: float, total: float) -> str:
    share = 100 * part / total if total else 0.0
    return f"{share:.0f} %" if share >= 1 or share == 0 else "<1 %"


def draw_budget(timing: Timing, folder: Path, name: str, title: str, caption: str) -> style.Saved:
    colours = kind_colours(timing)
    kinds = list(timing.budget_s)
    hours = np.array([timing.budget_s[k] / 3600.0 for k in kinds])
    total = hours.sum()
    with style.look():
        fig = style.figure(8.0, 0.45 * len(kinds) + 1.4)
        ax = fig.subplots()
        ax.barh(kinds, hours, color=[colours[k] for k in kinds])
        ax.invert_yaxis()
        for y, h in enumerate(hours):
            ax.text(h, y, f"  {duration(h)} ({percent(h, total)})", va="center", fontsize=8)
        ax.set_xlim(0, max(hours.max() if hours.size else 1.0, 1e-6) * 1.3)
        ax.set_xlabel("instrument time (h)")
        ax.set_title(f"{total:.2f} h of instrument time by step kind ({timing.budget_source})")
        return style.save(fig, folder, name, title, caption)


def draw_timeline(
    timing: Timing, incident_slices: list[int], folder: Path, name: str, title: str, caption: str
) -> style.Saved:
    colours = kind_colours(timing)
    with style.look():
        fig = style.figure(11.0, 6.6)
        top, bottom = fig.subplots(2, 1, height_ratios=[1.5, 1.0])
        index = timing.slice_index
        base = np.zeros(index.size)
        for kind in colours:
            minutes = timing.per_kind_min.get(kind)
            if minutes is None or not minutes.any():
                continue
            top.bar(
                index, minutes, bottom=base, width=1.0, color=colours[kind], label=kind, linewidth=0
            )
            base += minutes
        if incident_slices:
            marks = [i for i in incident_slices if 0 <= i < index.size]
            top.plot(marks, base[marks] * 1.04, "v", color="red", ms=5, label="incident")
        top.set_xlim(index.min() - 0.5 if index.size else 0, index.max() + 0.5 if index.size else 1)
        top.set_xlabel("slice")
        top.set_ylabel("minutes per slice")
        top.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.07, 1.0))
        clock = top.twinx()
        clock.plot(index, timing.started_h, color="black", lw=1.0)
        clock.set_ylabel("slice started at (h of instrument time)")
        top.set_title("time per slice, by step kind; black: when each slice started")
        for step in timing.first_steps:
            bottom.broken_barh(
                [(step.started_s / 60.0, step.duration_s / 60.0)],
                (step.slice - 0.4, 0.8),
                color=colours.get(step.kind, "grey"),
            )
        bottom.set_yticks(range(max((s.slice for s in timing.first_steps), default=0) + 1))
        bottom.invert_yaxis()
        bottom.set_ylabel("slice")
        bottom.set_xlabel("instrument time (min)")
        bottom.set_title("the first slices step by step")
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
