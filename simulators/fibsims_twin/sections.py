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


def _row_spans(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first column, stop column) of every row interval the circles cover."""
    keep = r2 > 0
    cx, cy, r2 = cx[keep], cy[keep], r2[keep]
    radius = np.sqrt(r2)
    first = np.searchsorted(y, cy - radius, side="right")
    stop = np.searchsorted(y, cy + radius, side="left")
    rows_per_circle = np.maximum(stop - first, 0)
    total = int(rows_per_circle.sum())
    circle = np.repeat(np.arange(cx.size), rows_per_circle)
    circle_start = np.repeat(np.cumsum(rows_per_circle) - rows_per_circle, rows_per_circle)
    row = first[circle] + (np.arange(total) - circle_start)
    dy = y[row] - cy[circle]
    half = np.sqrt(np.maximum(r2[circle] - dy * dy, 0.0))
    start = np.searchsorted(x, cx[circle] - half, side="right")
    end = np.searchsorted(x, cx[circle] + half, side="left")
    spans = end > start
    return row[spans], start[spans], end[spans]


def weighted_cover_counts(
    x: np.ndarray,
    y: np.ndarray,
    circle_sets: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]],
) -> np.ndarray:
    """Sum over circle sets of weight x (circles of the set strictly containing each pixel).

    Each set is (cx, cy, r2, weight). Giving two sets weights 1 and 2**16 counts both in one
    int32 pass; the counts of the second are ``total >> 16``, of the first ``total & 0xFFFF``.
    """
    height, width = y.size, x.size
    diff = np.zeros((height, width + 1), dtype=np.int32)
    for cx, cy, r2, weight in circle_sets:
        row, start, end = _row_spans(x, y, cx, cy, r2)
        np.add.at(diff, (row, start), weight)
        np.add.at(diff, (row, end), -weight)
    return np.cumsum(diff, axis=1, dtype=np.int32)[:, :width]


def cover_counts(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> np.ndarray:
    """How many circles (centre cx, cy; squared radius r2) strictly contain each pixel centre."""
    return weighted_cover_counts(x, y, [(cx, cy, r2, 1)])


def power_owner(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel, the circle of largest power r2 - d^2 > 0, and that power.

    For sections of spheres cut by one plane, r2 - d^2 equals R^2 - |p - c|^2 in 3-D, so the
    owner is the sphere of the power (Laguerre) diagram: overlapping particles are split exactly
    along the plane through their intersection circle. Returns ``owner`` (int32, -1 where no
    circle covers) and ``power`` (float32, 0 there; float32 places the split to ~1e-6 um).
    """
    height, width = y.size, x.size
    owner = np.full((height, width), -1, dtype=np.int32)
    power = np.zeros((height, width), dtype=np.float32)
    for k in np.flatnonzero(r2 > 0):
        radius = float(np.sqrt(r2[k]))
        i0, i1 = np.searchsorted(y, [cy[k] - radius, cy[k] + radius])
        j0, j1 = np.searchsorted(x, [cx[k] - radius, cx[k] + radius])
        if i1 <= i0 or j1 <= j0:
            continue
        dy2 = ((y[i0:i1] - cy[k]) ** 2).astype(np.float32)
        across = (r2[k] - (x[j0:j1] - cx[k]) ** 2).astype(np.float32)
        local = across[None, :] - dy2[:, None]
        window = power[i0:i1, j0:j1]
        better = local > window
        np.copyto(window, local, where=better)
        owner[i0:i1, j0:j1][better] = k
    return owner, power
