"""The best variants' 7Li+ maps side by side, each over the true Li fraction when recorded.

Why each map on its own colour range: variants differ in dwell, frames and current, so their
counts per pixel differ by factors; one shared range would show the longest acquisition and
leave the others dark. Each map spans its own 1st to 99.5th percentile (what the eye compares
is the contrast inside and between particles); the truth maps share one range, 0 to the
largest fraction shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fibsims.data.report.figures import style


@dataclass
class Panel:
    title: str
    li: np.ndarray
    truth: np.ndarray | None


def draw(panels: list[Panel], folder: Path, name: str, caption: str) -> style.Saved | None:
    if not panels:
        return None
    with_truth = any(p.truth is not None for p in panels)
    rows = 2 if with_truth else 1
    truths = [p.truth for p in panels if p.truth is not None]
    truth_top = max((float(np.nanmax(t)) for t in truths if np.isfinite(t).any()), default=1.0)
    with style.look():
        fig = style.figure(3.4 * len(panels) + 0.6, 3.0 * rows + 0.6, layout="compressed")
        axes = np.atleast_2d(fig.subplots(rows, len(panels), squeeze=False))
        for column, panel in enumerate(panels):
            ax = axes[0, column]
            low, high = style.limits(panel.li, 1.0, 99.5)
            shown = ax.imshow(
                np.ma.masked_invalid(panel.li),
                cmap=style.colormap(style.LI_CMAP),
                vmin=low,
                vmax=high,
                interpolation="nearest",
            )
            ax.set_title(panel.title, fontsize=8.5)
            ax.set_xlabel("x (SIMS pixels)")
            if column == 0:
                ax.set_ylabel("7Li+\ny (SIMS pixels)")
            fig.colorbar(shown, ax=ax, shrink=0.8, label="7Li+ counts per pixel")
            if not with_truth:
                continue
            ax = axes[1, column]
            if panel.truth is None:
                ax.set_axis_off()
                ax.text(0.5, 0.5, "no truth map", ha="center", va="center", transform=ax.transAxes)
                continue
            shown = ax.imshow(
                np.ma.masked_invalid(panel.truth),
                cmap=style.colormap("viridis"),
                vmin=0.0,
                vmax=truth_top or 1.0,
                interpolation="nearest",
            )
            ax.set_xlabel("x (SIMS pixels)")
            if column == 0:
                ax.set_ylabel("true Li fraction\ny (SIMS pixels)")
            fig.colorbar(shown, ax=ax, shrink=0.8, label="true Li atomic fraction")
        return style.save(fig, folder, name, "7Li+ maps of the best variants", caption)
