"""The Pareto figure: the objective against instrument hours, one point per done variant.

Why drawn from sweep.csv and not copied from the sweep's pareto.png: the report then stands
alone (its folder carries everything it shows), in the run report's look, and it marks the same
front the table's numbers give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fibsims.data.report.figures import style
from fibsims.data.sweep_report.labels import values
from fibsims.data.sweep_report.ranking import Ranking

MAX_LABELS = 24
"""Above this many points only the front is labelled (the others would overprint)."""
POINT = "#8c8c8c"
FRONT = "#d9782d"


def draw(
    ranking: Ranking, several_seeds: bool, folder: Path, name: str, caption: str
) -> style.Saved | None:
    points = [
        (row, row.hours, ranking.score(row))
        for row in ranking.rows
        if row.status == "done" and row.hours is not None and ranking.score(row) is not None
    ]
    if not points:
        return None
    front = {id(row) for row in ranking.front}
    hours = np.array([h for _, h, _ in points], dtype=np.float64)
    score = np.array([s for _, _, s in points], dtype=np.float64)
    on = np.array([id(row) in front for row, _, _ in points])
    with style.look():
        fig = style.figure(7.5, 4.8)
        ax = fig.subplots()
        ax.scatter(hours[~on], score[~on], s=28, color=POINT, label="dominated", zorder=2)
        ax.scatter(
            hours[on],
            score[on],
            s=46,
            color=FRONT,
            edgecolor="black",
            lw=0.6,
            label="Pareto front",
            zorder=3,
        )
        order = np.argsort(hours[on], kind="stable")
        ax.step(hours[on][order], score[on][order], where="post", color=FRONT, lw=1.2, zorder=1)
        for (row, h, s), is_front in zip(points, on, strict=True):
            if len(points) > MAX_LABELS and not is_front:
                continue
            text = values(row) + (f", seed {row.seed}" if several_seeds else "")
            ax.annotate(text, (h, s), xytext=(5, 4), textcoords="offset points", fontsize=7.5)
        ax.set_xlabel("instrument time (h)")
        ax.set_ylabel(ranking.objective or "")
        better = "higher" if ranking.maximise else "lower"
        ax.set_title(f"{ranking.objective} ({better} is better) against instrument time")
        ax.margins(x=0.15, y=0.12)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        return style.save(fig, folder, name, "Quality against instrument time", caption)
