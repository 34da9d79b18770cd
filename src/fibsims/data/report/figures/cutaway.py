"""A 3D cut-away of a volume: the box drawn face by face with the octant nearest the viewer
taken out, so three inner faces show the inside of the particles.

Why faces and not an isosurface: a cut-away keeps the values (the lithium of each particle, its
core and its cracks) where an isosurface keeps only a shape. Every face of the box is a grid
of coloured quadrilaterals in one ``Poly3DCollection`` so matplotlib orders them by depth
polygon by polygon (separate surfaces would be ordered as wholes, often wrongly). Plot axes:
x across, z (the slicing direction) into the picture, y down, all in micrometres.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from fibsims.data.report.figures import style

Place = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
MAX_QUADS = 96
EMPTY_COLOUR = "#d4d4d4"
"""Below the floor (epoxy: no lithium) the box is drawn light grey, so the particles stand out."""
"""Quadrilaterals along each edge of the box at most (the volume is subsampled to this)."""


@dataclass(frozen=True)
class Box:
    data: np.ndarray
    """(planes, rows, columns) = (z, y, x)."""
    x_um: np.ndarray
    y_um: np.ndarray
    z_um: np.ndarray


def _block_mean(values: np.ndarray, step: list[int]) -> np.ndarray:
    """Mean of step[0] x step[1] x step[2] blocks, NaN left out (cropped to whole blocks)."""
    shape = [n // k for n, k in zip(values.shape, step, strict=True)]
    cropped = values[: shape[0] * step[0], : shape[1] * step[1], : shape[2] * step[2]]
    blocks = cropped.reshape(shape[0], step[0], shape[1], step[1], shape[2], step[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN block stays NaN
        return np.nanmean(blocks, axis=(1, 3, 5))


def _axis(axis: np.ndarray, k: int) -> np.ndarray:
    return axis[: (axis.size // k) * k].reshape(-1, k).mean(axis=1)


def _subsampled(box: Box) -> Box:
    """At most :data:`MAX_QUADS` along an edge, by block means (which also calm the noise)."""
    step = [max(1, int(np.ceil(n / MAX_QUADS))) for n in box.data.shape]
    z = style.filled_axis(box.z_um)
    return Box(
        _block_mean(box.data, step),
        _axis(box.x_um, step[2]),
        _axis(box.y_um, step[1]),
        _axis(z, step[0]),
    )


def _quads(u: np.ndarray, v: np.ndarray, place: Place) -> np.ndarray:
    """Quadrilaterals over the pixel edges ``u`` x ``v``; ``place(U, V)`` -> (x, z, y)."""
    uu, vv = np.meshgrid(u, v, indexing="ij")
    corners = [
        (uu[:-1, :-1], vv[:-1, :-1]),
        (uu[1:, :-1], vv[1:, :-1]),
        (uu[1:, 1:], vv[1:, 1:]),
        (uu[:-1, 1:], vv[:-1, 1:]),
    ]
    points = [np.stack(place(a, b), axis=-1) for a, b in corners]
    return np.stack(points, axis=2).reshape(-1, 4, 3)


def _faces(box: Box, cut: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every visible face's quadrilaterals (in plot coordinates x, z, y) and values."""
    d = box.data
    ex, ey, ez = style.edges(box.x_um), style.edges(box.y_um), style.edges(box.z_um)
    cz, cy, cx = cut
    nz, ny, nx = d.shape
    quads, values = [], []

    def add(q: np.ndarray, v: np.ndarray, keep: np.ndarray) -> None:
        quads.append(q[keep.ravel()])
        values.append(v.ravel()[keep.ravel()])

    # outer faces toward the viewer, each without the removed octant's quarter
    yy, zz = np.meshgrid(np.arange(ny), np.arange(nz), indexing="ij")
    add(
        _quads(ey, ez, lambda y, z: (np.full_like(y, ex[-1]), z, y)),
        d[:, :, -1].T,
        ~((yy < cy) & (zz < cz)),
    )
    xx, yy2 = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    add(
        _quads(ex, ey, lambda x, y: (x, np.full_like(x, ez[0]), y)),
        d[0].T,
        ~((xx >= cx) & (yy2 < cy)),
    )
    xx2, zz2 = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
    add(
        _quads(ex, ez, lambda x, z: (x, z, np.full_like(x, ey[0]))),
        d[:, 0, :].T,
        ~((xx2 >= cx) & (zz2 < cz)),
    )
    # the three inner faces of the cut
    add(
        _quads(ey[: cy + 1], ez[: cz + 1], lambda y, z: (np.full_like(y, ex[cx]), z, y)),
        d[:cz, :cy, cx - 1].T,
        np.ones((cy, cz), bool),
    )
    add(
        _quads(ex[cx:], ey[: cy + 1], lambda x, y: (x, np.full_like(x, ez[cz]), y)),
        d[cz, :cy, cx:].T,
        np.ones((nx - cx, cy), bool),
    )
    add(
        _quads(ex[cx:], ez[: cz + 1], lambda x, z: (x, z, np.full_like(x, ey[cy]))),
        d[:cz, cy, cx:].T,
        np.ones((nx - cx, cz), bool),
    )
    return np.concatenate(quads), np.concatenate(values)


def _outline(
    ex: np.ndarray, ey: np.ndarray, ez: np.ndarray, cut: tuple[int, int, int]
) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """The visible edges (plot coordinates x, z, y): those of the three outer faces toward the
    viewer, stopped at the removed octant, and the nine edges of the cut."""
    x0, x1, xc = ex[0], ex[-1], ex[cut[2]]
    y0, y1, yc = ey[0], ey[-1], ey[cut[1]]
    z0, z1, zc = ez[0], ez[-1], ez[cut[0]]
    return [
        # outer faces x = x1, z = z0, y = y0 (y0 is the top), outside the cut
        ((x1, z0, y1), (x1, z1, y1)),
        ((x1, z1, y1), (x1, z1, y0)),
        ((x1, z0, y1), (x1, z0, yc)),
        ((x0, z0, y1), (x1, z0, y1)),
        ((x0, z0, y1), (x0, z0, y0)),
        ((x0, z0, y0), (xc, z0, y0)),
        ((x0, z0, y0), (x0, z1, y0)),
        ((x0, z1, y0), (x1, z1, y0)),
        ((x1, z1, y0), (x1, zc, y0)),
        # the cut: where it meets the outer faces, and its three inner edges
        ((xc, z0, y0), (xc, z0, yc)),
        ((xc, z0, yc), (x1, z0, yc)),
        ((x1, z0, yc), (x1, zc, yc)),
        ((x1, zc, yc), (x1, zc, y0)),
        ((x1, zc, y0), (xc, zc, y0)),
        ((xc, zc, y0), (xc, z0, y0)),
        ((xc, zc, yc), (x1, zc, yc)),
        ((xc, zc, yc), (xc, z0, yc)),
        ((xc, zc, yc), (xc, zc, y0)),
    ]


def draw(
    box: Box,
    limits: tuple[float, float],
    floor: float,
    value_label: str,
    folder: Path,
    name: str,
    title: str,
    caption: str,
) -> style.Saved:
    """``limits``: the colour range; values below ``floor`` are drawn as empty (grey)."""
    small = _subsampled(box)
    nz, ny, nx = small.data.shape
    cut = (max(1, nz // 2), max(1, ny // 2), max(1, nx // 2))
    quads, values = _faces(small, cut)
    norm = Normalize(*limits)
    cmap = style.colormap(style.LI_CMAP)
    colours = cmap(norm(np.ma.masked_invalid(values)))
    colours[np.nan_to_num(values, nan=np.inf) < floor] = to_rgba(EMPTY_COLOUR)
    with style.look():
        fig = style.figure(8.0, 6.2)
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
        ax.add_collection3d(
            Poly3DCollection(
                quads, facecolors=colours, edgecolors=colours, linewidths=0.15, zorder=1
            )
        )
        ex, ey, ez = style.edges(small.x_um), style.edges(small.y_um), style.edges(small.z_um)
        for a, b in _outline(ex, ey, ez, cut):  # only visible edges: drawn over the faces
            ax.plot(*zip(a, b, strict=True), color="black", lw=0.7, zorder=2)
        ax.set_xlim(ex[0], ex[-1])
        ax.set_ylim(ez[0], ez[-1])
        ax.set_zlim(ey[0], ey[-1])
        ax.invert_zaxis()  # y runs down the face
        ax.set_box_aspect((ex[-1] - ex[0], ez[-1] - ez[0], ey[-1] - ey[0]), zoom=0.88)
        ax.view_init(elev=22, azim=-52)
        ax.set_xlabel("x (um)")
        ax.set_ylabel("z, slicing (um)")
        ax.set_zlabel("y (um)")
        fig.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.6, label=value_label)
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
