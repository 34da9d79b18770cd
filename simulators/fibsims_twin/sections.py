"""Rasterising the circles a plane cuts from spheres onto a pixel grid, without pixel loops.

Why scanlines: a 1536 x 1024 face crossed by a dozen particles ~10 um across would cost tens of
full-image passes if each circle were tested against its bounding box. Instead each circle is
turned into one column interval per row it spans, the intervals are written as +1/-1 into a
difference array and one cumulative sum per image yields how many circles cover every pixel.
The work is O(rows per circle) plus one pass over the image.

Grids are given by their axes: ``x`` (W,) and ``y`` (H,), both ascending; results are (H, W).
"""

from __future__ import annotations

import numpy as np


def check_axis(name: str, axis: np.ndarray) -> np.ndarray:
    """A 1-D, finite, strictly ascending float64 copy of a grid axis."""
    values = np.asarray(axis, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D axis of the face grid")
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise ValueError(f"{name} must be finite and strictly ascending")
    return values


def cover_counts(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> np.ndarray:
    """How many circles (centre cx, cy; squared radius r2) strictly contain each pixel centre."""
    height, width = y.size, x.size
    diff = np.zeros((height, width + 1), dtype=np.int16)
    keep = r2 > 0
    cx, cy, r2 = cx[keep], cy[keep], r2[keep]
    radius = np.sqrt(r2)
    first = np.searchsorted(y, cy - radius, side="right")
    stop = np.searchsorted(y, cy + radius, side="left")
    rows_per_circle = np.maximum(stop - first, 0)
    total = int(rows_per_circle.sum())
    if total:
        circle = np.repeat(np.arange(cx.size), rows_per_circle)
        offset = np.arange(total) - np.repeat(
            np.cumsum(rows_per_circle) - rows_per_circle, rows_per_circle
        )
        row = first[circle] + offset
        dy = y[row] - cy[circle]
        half = np.sqrt(np.maximum(r2[circle] - dy * dy, 0.0))
        start = np.searchsorted(x, cx[circle] - half, side="right")
        end = np.searchsorted(x, cx[circle] + half, side="left")
        spans = end > start
        np.add.at(diff, (row[spans], start[spans]), 1)
        np.add.at(diff, (row[spans], end[spans]), -1)
    return np.cumsum(diff, axis=1, dtype=np.int16)[:, :width]


def power_owner(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel, the circle of largest power r2 - d^2 > 0, and that power.

    For sections of spheres cut by one plane, r2 - d^2 equals R^2 - |p - c|^2 in 3-D, so the
    owner is the sphere of the power (Laguerre) diagram: overlapping particles are split exactly
    along the plane through their intersection circle. Returns ``owner`` (int32, -1 where no
    circle covers) and ``power`` (float64, 0 there).
    """
    height, width = y.size, x.size
    owner = np.full((height, width), -1, dtype=np.int32)
    power = np.zeros((height, width))
    for k in np.flatnonzero(r2 > 0):
        radius = float(np.sqrt(r2[k]))
        i0, i1 = np.searchsorted(y, [cy[k] - radius, cy[k] + radius])
        j0, j1 = np.searchsorted(x, [cx[k] - radius, cx[k] + radius])
        if i1 <= i0 or j1 <= j0:
            continue
        dy = y[i0:i1] - cy[k]
        dx = x[j0:j1] - cx[k]
        local = r2[k] - (dy[:, None] ** 2 + dx[None, :] ** 2)
        window = power[i0:i1, j0:j1]
        better = local > window
        window[better] = local[better]
        owner[i0:i1, j0:j1][better] = k
    return owner, power
