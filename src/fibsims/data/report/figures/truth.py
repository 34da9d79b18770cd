"""The run against the twin's truth, in pictures: the 7Li+ counts against the true Li fraction,
and the segmented particles and cracks against the true ones on one face.

Why pictures beside the scores: a Dice of 0.8 can be thin cracks half found everywhere or
one crack missed whole; the agreement maps say which.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Patch

from fibsims.data.report.cracks import SlicePhases
from fibsims.data.report.figures import style
from fibsims.data.report.figures.segmentation import ZOOM_UM, zoom_window
from fibsims.data.report.segment import Phases

BOTH, FOUND_ONLY, TRUE_ONLY = (0.3, 0.75, 0.35, 1.0), (1.0, 0.5, 0.0, 1.0), (0.15, 0.4, 1.0, 1.0)


@dataclass(frozen=True)
class Pairs:
    """7Li+ counts and the true Li fraction of the same pixels (finite values only)."""

    counts: np.ndarray
    true: np.ndarray
    levels: int
    """Counts are means of this many slices: multiples of 1/levels."""


def count_edges(top: float, levels: int, most: int = 80) -> np.ndarray:
    """Bin edges between the values a mean of ``levels`` integer counts can take (bins that
    straddle none show as empty stripes), merged to at most ``most`` bins."""
    step = 1.0 / levels
    step *= max(1, int(np.ceil(top / step / most)))
    return np.arange(-step / 2, top + step, step)


def _agreement(found: np.ndarray, true: np.ndarray) -> np.ndarray:
    rgba = np.zeros((*found.shape, 4))
    rgba[found & true] = BOTH
    rgba[found & ~true] = FOUND_ONLY
    rgba[~found & true] = TRUE_ONLY
    return rgba


def draw(
    pairs: Pairs,
    shown: SlicePhases,
    x_um: np.ndarray,
    y_um: np.ndarray,
    z_um: float,
    folder: Path,
    name: str,
    title: str,
    caption: str,
) -> style.Saved:
    found: Phases = shown.found
    true = shown.true
    assert true is not None, "the figure is drawn for runs with truth only"
    extent = (*style.edges(x_um)[[0, -1]], *style.edges(y_um)[[-1, 0]])
    legend = [
        Patch(color=BOTH, label="both"),
        Patch(color=FOUND_ONLY, label="found only"),
        Patch(color=TRUE_ONLY, label="truth only"),
    ]
    with style.look():
        fig = style.figure(12.0, 4.3)
        density, particles, cracks = fig.subplots(1, 3, width_ratios=[0.8, 1.0, 1.0])
        top = float(np.percentile(pairs.counts, 99.9)) if pairs.counts.size else 1.0
        cmap = style.colormap("viridis").with_extremes(bad="white")  # empty bins: white
        density.hist2d(
            pairs.true,
            pairs.counts,
            norm=LogNorm(),
            cmap=cmap,
            bins=[
                np.linspace(0.0, max(float(pairs.true.max(initial=0.0)), 1e-6), 80),
                count_edges(top, pairs.levels),
            ],
        )
        density.set_xlabel("true Li atomic fraction")
        density.set_ylabel("7Li+ counts per pixel (z-binned)")
        density.set_title("every SIMS pixel")
        lo, hi = style.limits(shown.image)
        for ax, f, t in (
            (particles, found.particles, true.particles),
            (cracks, found.cracks, true.cracks),
        ):
            ax.imshow(shown.image, cmap="gray", vmin=lo, vmax=hi, extent=extent, alpha=0.55)
            ax.imshow(_agreement(f, t), extent=extent, interpolation="nearest", alpha=0.6)
            ax.set_xlabel("x (um)")
        particles.set_title(f"particles vs truth, z = {z_um:.2f} um")
        particles.set_ylabel("y (um)")
        particles.legend(handles=legend, fontsize=7, loc="lower left", framealpha=0.8)
        x0, y0 = zoom_window(true.cracks | found.cracks, x_um, y_um)
        cracks.set_xlim(x0, x0 + ZOOM_UM[0])
        cracks.set_ylim(y0 + ZOOM_UM[1], y0)
        cracks.set_title("cracks vs truth (zoom)")
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
