"""What the segmentation found: the particles one by one, and the cracks inside them.

Why this figure: every number of the particle and crack sections rests on it, so a reader must
be able to see at a glance whether the particles are whole and split where they should be, and
whether the dark lines inside them were taken for cracks. Three panels: a face with each
particle in its own colour and the cracks in cyan, a zoom on the most cracked part of that
face, and an xz section of the 3D labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from scipy import ndimage as ndi
from skimage.segmentation import find_boundaries

from fibsims.data.report.figures import style
from fibsims.data.report.figures.orthoslices import Plane

CRACK_COLOUR = (0.0, 0.9, 1.0, 1.0)
LABEL_ALPHA = 0.35
ZOOM_UM = (5.0, 3.5)
PORE_UM = 0.06
"""Features that hold a square of twice this side are pores, not cracks, for the zoom."""


@dataclass(frozen=True)
class SegmentationViews:
    face: Plane
    """The SE face (full resolution)."""
    labels: np.ndarray
    """The 3D particle labels on the face's pixels."""
    cracks: np.ndarray
    """Cracks found on the face (full resolution)."""
    z_um: float
    section: Plane
    """The 3D labels on the xz section (x across, z down)."""


def label_colours() -> ListedColormap:
    """Index 0 transparent, then the 20 qualitative colours particles cycle through."""
    base = np.array([style.colormap("tab20")(i) for i in range(20)])
    return ListedColormap(np.vstack([[0, 0, 0, 0], base]))


def cycled(labels: np.ndarray) -> np.ndarray:
    """Particle labels folded onto the colour indices 1..20 (0 stays 0)."""
    return np.where(labels > 0, (labels - 1) % 20 + 1, 0)


def zoom_window(cracks: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The corner (smallest x, smallest y) of the :data:`ZOOM_UM` window holding the most
    crack length: thin features only, so round internal pores do not draw the zoom."""
    pitch = abs(x[1] - x[0]) if x.size > 1 else 1.0
    wx, wy = (max(1, int(w / pitch)) for w in ZOOM_UM)
    radius = max(1, round(PORE_UM / pitch))
    thin = cracks & ~ndi.binary_opening(cracks, structure=np.ones((2 * radius + 1,) * 2, bool))
    density = ndi.uniform_filter(thin.astype(np.float32), size=(wy, wx), mode="constant")
    row, col = np.unravel_index(int(np.argmax(density)), density.shape)
    cx, cy = x[col], y[row]
    x0 = float(np.clip(cx - ZOOM_UM[0] / 2, x[0], max(x[0], x[-1] - ZOOM_UM[0])))
    y0 = float(np.clip(cy - ZOOM_UM[1] / 2, y[0], max(y[0], y[-1] - ZOOM_UM[1])))
    return x0, y0


def _face(ax: object, views: SegmentationViews, colours: ListedColormap) -> None:
    face = views.face
    lo, hi = style.limits(face.data)
    extent = (*style.edges(face.horizontal)[[0, -1]], *style.edges(face.vertical)[[-1, 0]])
    ax.imshow(face.data, cmap="gray", vmin=lo, vmax=hi, extent=extent)
    overlay = colours(cycled(views.labels))
    overlay[..., 3] = np.where(views.labels > 0, LABEL_ALPHA, 0.0)
    overlay[find_boundaries(views.labels, mode="inner")] = (1.0, 1.0, 1.0, 0.9)
    overlay[views.cracks] = CRACK_COLOUR
    ax.imshow(overlay, extent=extent, interpolation="nearest")
    ax.set_xlabel("x (um)")
    ax.set_ylabel("y (um)")


def draw(
    views: SegmentationViews, count: int, folder: Path, name: str, title: str, caption: str
) -> style.Saved:
    colours = label_colours()
    with style.look():
        fig = style.figure(11.0, 8.0)
        grid = fig.add_gridspec(2, 2)
        whole, zoom = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        _face(whole, views, colours)
        whole.set_title(f"{count} particles (colours), cracks (cyan); z = {views.z_um:.2f} um")
        _face(zoom, views, colours)
        x0, y0 = zoom_window(views.cracks, views.face.horizontal, views.face.vertical)
        zoom.set_xlim(x0, x0 + ZOOM_UM[0])
        zoom.set_ylim(y0 + ZOOM_UM[1], y0)
        zoom.set_title("zoom on the most cracked part")
        whole.add_patch(Rectangle((x0, y0), *ZOOM_UM, fill=False, edgecolor="yellow", lw=1.0))
        section = fig.add_subplot(grid[1, :])
        labels = views.section.data
        style.image(
            section,
            np.ma.masked_equal(cycled(labels), 0),
            views.section.horizontal,
            views.section.vertical,
            cmap=colours,
            vmin=0,
            vmax=colours.N - 1,
        )
        section.set_facecolor("#303030")
        factor = style.stretch(
            style.extent(views.section.horizontal), style.extent(views.section.vertical)
        )
        section.set_aspect(factor)
        section.set_title(
            "the same particles in depth: xz section of the 3D labels" + style.stretched(factor)
        )
        section.set_xlabel("x (um)")
        section.set_ylabel("z, slicing direction (um)")
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
