"""Orthoslices of a volume: the face (xy) at a few depths, and xz and yz sections across the
stack, every axis in micrometres, dashed lines where the other panels cut.

Why this layout: it is how microscopists read a slice-and-view stack (ImageJ's orthogonal
views): the xy faces are what the instrument imaged, the xz and yz sections show what only a
stack shows, the particles' shapes in depth and the slices' registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.gridspec import GridSpec

from fibsims.data.report.figures import style


@dataclass(frozen=True)
class Plane:
    data: np.ndarray
    """Rows along ``vertical``, columns along ``horizontal``."""
    horizontal: np.ndarray
    vertical: np.ndarray


@dataclass(frozen=True)
class Orthoslices:
    xy: list[tuple[float, Plane]]
    """(z of the face in um, the face) at a few depths."""
    xz: Plane
    """x across, z down."""
    yz: Plane
    """z across, y down."""
    x_cut_um: float
    y_cut_um: float


@dataclass(frozen=True)
class Look:
    cmap: str
    value_label: str
    limits: tuple[float, float]


WIDTH_IN = 11.0
LABELS_IN = 0.9
"""Room for the titles and tick labels of a row of panels."""


def draw(
    views: Orthoslices, look: Look, folder: Path, name: str, title: str, caption: str
) -> style.Saved:
    plane = views.xy[0][1]
    x_ext, y_ext = style.extent(plane.horizontal), style.extent(plane.vertical)
    z_ext = style.extent(views.xz.vertical)
    xz_stretch = yz_stretch = style.stretch(max(x_ext, y_ext), z_ext)
    panel = (WIDTH_IN - 1.6) / 3
    top = panel * y_ext / x_ext + LABELS_IN
    bottom = max(2 * panel * z_ext * xz_stretch / x_ext, panel * y_ext / (z_ext * yz_stretch))
    bottom = min(bottom, 2.2 * panel) + LABELS_IN
    with style.look():
        fig = style.figure(WIDTH_IN, top + bottom + 0.4, layout="compressed")
        grid = GridSpec(2, 3, figure=fig, height_ratios=[top, bottom])
        cmap = style.colormap(look.cmap)
        vmin, vmax = look.limits
        artist = None
        for column, (z, face) in enumerate(views.xy):
            ax = fig.add_subplot(grid[0, column])
            artist = style.image(
                ax, face.data, face.horizontal, face.vertical, cmap=cmap, vmin=vmin, vmax=vmax
            )
            ax.axhline(views.y_cut_um, **style.CUT_STYLE)
            ax.axvline(views.x_cut_um, **style.CUT_STYLE)
            ax.set_title(f"xy face at z = {z:.2f} um")
            ax.set_xlabel("x (um)")
            ax.set_ylabel("y (um)")
        ax = fig.add_subplot(grid[1, 0:2])
        style.image(
            ax,
            views.xz.data,
            views.xz.horizontal,
            views.xz.vertical,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
        )
        ax.set_aspect(xz_stretch)
        for z, _ in views.xy:
            ax.axhline(z, **style.CUT_STYLE)
        ax.axvline(views.x_cut_um, **style.CUT_STYLE)
        ax.set_title(
            f"xz section across the stack at y = {views.y_cut_um:.2f} um"
            + style.stretched(xz_stretch)
        )
        ax.set_xlabel("x (um)")
        ax.set_ylabel("z, slicing direction (um)")
        ax = fig.add_subplot(grid[1, 2])
        style.image(
            ax,
            views.yz.data,
            views.yz.horizontal,
            views.yz.vertical,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
        )
        ax.set_aspect(1.0 / yz_stretch)
        for z, _ in views.xy:
            ax.axvline(z, **style.CUT_STYLE)
        ax.axhline(views.y_cut_um, **style.CUT_STYLE)
        ax.set_title(f"yz section at x = {views.x_cut_um:.2f} um" + style.stretched(yz_stretch))
        ax.set_xlabel("z (um)")
        ax.set_ylabel("y (um)")
        if artist is not None:
            fig.colorbar(artist, ax=fig.axes, shrink=0.6, label=look.value_label)
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
