"""How every figure of the report is drawn and saved: one look, no display, no global state.

Why ``matplotlib.figure.Figure`` and never pyplot: a Figure made directly renders with the Agg
canvas and registers nowhere, so making a report changes no backend and leaks no figure in the
caller's process (a notebook, a test run, a server).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

DPI = 110
SE_CMAP = "gray"
LI_CMAP = "inferno"
MISSING_COLOUR = "#b9c7e6"
"""Where a slice is missing, or a field does not reach: a pale blue no colormap here uses."""
CUT_STYLE = {"color": "#39d353", "lw": 0.9, "ls": "--"}
"""Lines that say where another panel cuts this one."""
FONT = {"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9}


@dataclass(frozen=True)
class Saved:
    """A figure written next to the page, with what the page says about it."""

    file: str
    title: str
    caption: str


def look() -> contextlib.AbstractContextManager[object]:
    """The report's fonts, for everything drawn inside (rcParams are read as artists are made)."""
    return mpl.rc_context(FONT)


def figure(width_in: float, height_in: float, layout: str = "constrained") -> Figure:
    """A figure on the Agg canvas; ``layout="compressed"`` for grids of fixed-aspect images."""
    return Figure(figsize=(width_in, height_in), dpi=DPI, layout=layout)


def save(fig: Figure, folder: Path, name: str, title: str, caption: str) -> Saved:
    fig.savefig(folder / name, dpi=DPI, facecolor="white", bbox_inches="tight", pad_inches=0.12)
    return Saved(name, title, caption)


def colormap(name: str) -> Colormap:
    """A named colormap that draws NaN (no data) in :data:`MISSING_COLOUR`."""
    return mpl.colormaps[name].with_extremes(bad=MISSING_COLOUR)


def limits(values: np.ndarray, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """Display range from percentiles of the finite values (robust to hot pixels)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(finite[:: max(1, finite.size // 500_000)], [low, high])
    return float(lo), float(hi if hi > lo else lo + 1.0)


def filled_axis(centres: np.ndarray) -> np.ndarray:
    """An axis with its NaN entries (missing slices) interpolated from their neighbours."""
    centres = np.asarray(centres, dtype=np.float64)
    finite = np.isfinite(centres)
    if finite.all() or not finite.any():
        return np.nan_to_num(centres) if not finite.any() else centres
    index = np.arange(centres.size)
    return np.interp(index, index[finite], centres[finite])


def edges(centres: np.ndarray) -> np.ndarray:
    """Pixel edges from pixel centres (uniform or not): what pcolorfast draws on."""
    c = filled_axis(centres)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    middle = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - middle[0]], middle, [2 * c[-1] - middle[-1]]])


def image(
    ax: Axes, data: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray, **kwargs: object
) -> object:
    """Draw ``data`` (rows along ``vertical``) on physical axes, rows downward."""
    ax.set_facecolor(MISSING_COLOUR)
    artist = ax.pcolorfast(edges(horizontal), edges(vertical), np.ma.masked_invalid(data), **kwargs)
    ax.set_xlim(edges(horizontal)[[0, -1]])
    ax.set_ylim(edges(vertical)[[-1, 0]])
    ax.set_aspect("equal")
    return artist


MIN_SECTION = 0.25
"""A section across the stack is stretched in z until its depth shows at least this share of
its width (a few-slice stack is otherwise a line)."""


def extent(axis: np.ndarray) -> float:
    """The length an axis of pixel centres covers, edge to edge."""
    ends = edges(axis)
    return float(abs(ends[-1] - ends[0])) or 1.0


def stretch(across: float, depth: float) -> float:
    """How much z must be stretched for a stack this thin to be seen (1: not at all)."""
    return max(1.0, MIN_SECTION * across / depth)


def stretched(factor: float) -> str:
    """What a section's title adds when z is stretched."""
    return f"\n(z stretched {factor:.0f}x)" if factor > 1.0 else ""
