"""The Pareto front of a sweep: quality against instrument hours, and its figure ``pareto.png``.

A variant is on the front when no other variant is at least as good in both (as little or less
instrument time, as good or better quality) and better in one: the settings worth booking. The
quality metric's direction is read from its name: a metric measuring an error (``rms``,
``error``, ``residual`` in its name) is better lower, every other (the correlations
``li_map_pearson_r...``) better higher; the figure's axis says which.

Drawn on matplotlib's Agg canvas (``Figure``, never pyplot), as the report's figures are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LOWER_IS_BETTER = ("rms", "error", "residual")
DPI = 120


@dataclass(frozen=True)
class Point:
    label: str
    hours: float
    quality: float


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (see the module docstring)."""
    name = metric.rsplit(".", 1)[-1]
    return not any(marker in name for marker in LOWER_IS_BETTER)


def pareto_front(points: Sequence[Point], higher: bool = True) -> list[Point]:
    """The points no other point dominates, by instrument hours (fewest first)."""
    sign = 1.0 if higher else -1.0
    ordered = sorted(points, key=lambda p: (p.hours, -sign * p.quality))
    front: list[Point] = []
    for point in ordered:
        if not front or sign * point.quality > sign * front[-1].quality:
            front.append(point)
    return front


def write_pareto_plot(
    path: Path, points: Sequence[Point], metric: str, higher: bool | None = None
) -> list[Point]:
    """Draw every point and the front (labelled) into ``path`` (PNG); the front."""
    from matplotlib.figure import Figure

    higher = higher_is_better(metric) if higher is None else higher
    front = pareto_front(points, higher)
    fig = Figure(figsize=(7.5, 5.0), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    if points:
        ax.scatter(
            [p.hours for p in points],
            [p.quality for p in points],
            s=28,
            color="0.6",
            label=f"variants ({len(points)})",
            zorder=2,
        )
        ax.step(
            [p.hours for p in front],
            [p.quality for p in front],
            where="post",
            color="tab:red",
            linewidth=1.2,
            zorder=3,
        )
        ax.scatter(
            [p.hours for p in front],
            [p.quality for p in front],
            s=44,
            color="tab:red",
            label=f"Pareto front ({len(front)})",
            zorder=4,
        )
        for p in front:
            ax.annotate(
                p.label,
                (p.hours, p.quality),
                textcoords="offset points",
                xytext=(5, 5),
                fontsize=7,
                color="tab:red",
            )
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(
            0.5, 0.5, "no finished variant with this metric", ha="center", transform=ax.transAxes
        )
    direction = "higher is better" if higher else "lower is better"
    ax.set_xlabel("instrument time (h)")
    ax.set_ylabel(f"{metric} ({direction})")
    ax.set_title("quality against instrument time: less time and better quality win", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.savefig(path, dpi=DPI, facecolor="white")
    return front
