"""The 7Li+ map laid over the SE image of the same face, as SIMS-on-SEM figures are drawn.

Why resample by geometry and not by image registration: the SE image and the raster of a slice
are taken with the same beam, so their fields share a centre (stored per slice); each SE pixel
centre is looked up in the 7Li+ map by its x and y in micrometres, bilinearly. The map's
colour is given an opacity that rises with its value, so epoxy (no lithium) shows the grey SE
image and the particles show their lithium over their grains and cracks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from scipy import ndimage as ndi

from fibsims.data.report.figures import style
from fibsims.data.report.figures.orthoslices import Plane

MAX_ALPHA = 0.62
"""Opacity of the map where it is solid: the grains and cracks of the SE image show through."""
SOLID = 0.3
"""Values above this share of the map's top are solid (opaque); below, opacity ramps to 0."""


@dataclass(frozen=True)
class Face:
    se: Plane
    li: Plane
    z_um: float


def resample(li: Plane, x_um: np.ndarray, y_um: np.ndarray) -> np.ndarray:
    """The map ``li`` at the pixel centres (``y_um`` rows, ``x_um`` columns); NaN outside."""
    pitch_x = li.horizontal[1] - li.horizontal[0]
    pitch_y = li.vertical[1] - li.vertical[0]
    cols = (x_um - li.horizontal[0]) / pitch_x
    rows = (y_um - li.vertical[0]) / pitch_y
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    known = np.isfinite(li.data)
    values = ndi.map_coordinates(
        np.where(known, li.data, 0.0), [grid_rows, grid_cols], order=1, mode="nearest"
    )
    outside = ndi.map_coordinates(
        (~known).astype(np.float32), [grid_rows, grid_cols], order=0, mode="constant", cval=1.0
    )
    return np.where(outside > 0.5, np.nan, values)


def colour_limits(values: np.ndarray) -> tuple[float, float]:
    """The colour range of the solid pixels only, so the colours spread over the lithium
    differences between and within particles rather than over solid against epoxy."""
    _, top = style.limits(values, 1, 99.5)
    solid = values[np.isfinite(values) & (values > SOLID * top)]
    return style.limits(solid, 2, 99.5) if solid.size else (0.0, top)


def rgba(values: np.ndarray, limits: tuple[float, float], cmap_name: str) -> np.ndarray:
    """Colour over ``limits``; opaque (:data:`MAX_ALPHA`) on solid, transparent on epoxy."""
    lo, hi = limits
    values = np.nan_to_num(values, nan=0.0)
    colours = style.colormap(cmap_name)(np.clip((values - lo) / (hi - lo), 0.0, 1.0))
    solid_at = SOLID * hi
    colours[..., 3] = MAX_ALPHA * np.clip(values / solid_at, 0.0, 1.0) ** 2
    return colours


def draw(face: Face, folder: Path, name: str, title: str, caption: str) -> style.Saved:
    se = face.se
    on_se = resample(face.li, se.horizontal, se.vertical)
    li_limits = colour_limits(face.li.data)
    se_limits = style.limits(se.data)
    extent = (*style.edges(se.horizontal)[[0, -1]], *style.edges(se.vertical)[[-1, 0]])
    with style.look():
        fig = style.figure(11.0, 4.4)
        left, right = fig.subplots(1, 2)
        for ax in (left, right):
            ax.imshow(
                se.data,
                cmap="gray",
                vmin=se_limits[0],
                vmax=se_limits[1],
                extent=extent,
                interpolation="antialiased",
            )
            ax.set_xlabel("x (um)")
        right.imshow(
            rgba(on_se, li_limits, style.LI_CMAP), extent=extent, interpolation="antialiased"
        )
        left.set_ylabel("y (um)")
        left.set_title(f"SE image, z = {face.z_um:.2f} um")
        right.set_title("7Li+ over SE")
        mappable = ScalarMappable(Normalize(*li_limits), style.colormap(style.LI_CMAP))
        fig.colorbar(mappable, ax=right, shrink=0.85, label="7Li+ counts per pixel")
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
