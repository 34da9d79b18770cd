"""Rasterising the ellipses and circles a plane cuts from the phantom's solids, without loops.

Why scanlines: a 1536 x 1024 face crossed by a few particles ~10 um across and hundreds of
internal pores would cost many full-image passes if each shape were tested over its bounding
box. Each shape is instead turned into one column interval per row it spans, the intervals are
written as +w/-w into a difference array, and one cumulative sum per image counts how many
shapes cover every pixel. The work is O(rows per shape) plus one pass over the image.

Grids are given by their axes: ``x`` (W,) and ``y`` (H,), both ascending; results are (H, W).

A plane z = z0 cuts the ellipsoid (p - c)^T Q (p - c) < 1 in the conic, in u = x - cx,
v = y - cy, w = z0 - cz:

    Q(u, v) = Qxx u^2 + 2 Qxy u v + Qyy v^2 + 2 Qxz w u + 2 Qyz w v + Qzz w^2 < 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Spans = tuple[np.ndarray, np.ndarray, np.ndarray]  # row, first column, stop column


def check_axis(name: str, axis: np.ndarray) -> np.ndarray:
    """A 1-D, finite, strictly ascending float64 copy of a grid axis."""
    values = np.asarray(axis, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D axis of the face grid")
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise ValueError(f"{name} must be finite and strictly ascending")
    return values


@dataclass(frozen=True)
class Sections:
    """The conics a plane cuts from a set of ellipsoids: centres (n,) and coefficients (n,)."""

    cx: np.ndarray
    cy: np.ndarray
    qxx: np.ndarray
    qxy: np.ndarray
    qyy: np.ndarray
    qx: np.ndarray  # Qxz w
    qy: np.ndarray  # Qyz w
    q0: np.ndarray  # Qzz w^2

    @classmethod
    def of(cls, centres: np.ndarray, forms: np.ndarray, z_um: float) -> Sections:
        """Sections of ellipsoids with centres (n, 3) and forms (n, 6) by the plane z."""
        w = z_um - centres[:, 2]
        qxx, qxy, qxz, qyy, qyz, qzz = forms.T
        return cls(centres[:, 0], centres[:, 1], qxx, qxy, qyy, qxz * w, qyz * w, qzz * w * w)

    def value(self, k: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Q of conic ``k`` on the grid u (W,) x v (H,) (offsets from its centre), (H, W), in
        the dtype of the offsets."""
        dtype = u.dtype.type
        across = dtype(self.qxx[k]) * u * u + dtype(2 * self.qx[k]) * u
        down = dtype(self.qyy[k]) * v * v + dtype(2 * self.qy[k]) * v + dtype(self.q0[k])
        out = np.multiply.outer(v * dtype(2 * self.qxy[k]), u)
        out += across[None, :]
        out += down[:, None]
        return out

    def row_range(self) -> tuple[np.ndarray, np.ndarray]:
        """v offsets (lower, upper) between which the conic is non-empty; NaN if empty."""
        a, b, c = self.qxx, self.qxy, self.qyy
        p = b * b - a * c  # < 0 for an ellipse
        q = b * self.qx - a * self.qy
        r = self.qx * self.qx - a * (self.q0 - 1.0)
        disc = q * q - p * r
        root = np.sqrt(np.where(disc > 0, disc, np.nan))
        return (-q + root) / p, (-q - root) / p

    def spans(self, x: np.ndarray, y: np.ndarray) -> Spans:
        """(row, first column, stop column) of every row interval inside a conic."""
        lower, upper = self.row_range()
        keep = np.isfinite(lower)
        index = np.flatnonzero(keep)
        first = np.searchsorted(y, self.cy[keep] + lower[keep], side="right")
        stop = np.searchsorted(y, self.cy[keep] + upper[keep], side="left")
        rows_each = np.maximum(stop - first, 0)
        owner = np.repeat(index, rows_each)
        start_of = np.repeat(np.cumsum(rows_each) - rows_each, rows_each)
        row = np.repeat(first, rows_each) + (np.arange(owner.size) - start_of)
        v = y[row] - self.cy[owner]
        a = self.qxx[owner]
        beta = self.qxy[owner] * v + self.qx[owner]
        gamma = self.qyy[owner] * v * v + 2 * self.qy[owner] * v + self.q0[owner]
        half = np.sqrt(np.maximum(beta * beta - a * (gamma - 1.0), 0.0)) / a
        centre = self.cx[owner] - beta / a
        start = np.searchsorted(x, centre - half, side="right")
        end = np.searchsorted(x, centre + half, side="left")
        inside = end > start
        return row[inside], start[inside], end[inside]

    def owner(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each pixel, the conic of smallest Q < 1, and that Q (the normalised radius^2).

        Where particles overlap, a point belongs to the one it lies deepest in. Returns
        ``owner`` (intp, ready to index tables; -1 where none covers) and ``rho2`` (float32,
        1 there). Q is evaluated in float32 over each conic's bounding box (~1e-6 relative).
        """
        owner = np.full((y.size, x.size), -1, dtype=np.intp)
        rho2 = np.ones((y.size, x.size), dtype=np.float32)
        lower, upper = self.row_range()
        for k in np.flatnonzero(np.isfinite(lower)):
            i0, i1 = np.searchsorted(y, [self.cy[k] + lower[k], self.cy[k] + upper[k]])
            half_width = _half_width(self, k)
            j0, j1 = np.searchsorted(x, [self.cx[k] - half_width, self.cx[k] + half_width])
            if i1 <= i0 or j1 <= j0:
                continue
            u = (x[j0:j1] - self.cx[k]).astype(np.float32)
            v = (y[i0:i1] - self.cy[k]).astype(np.float32)
            local = self.value(k, u, v)
            window = rho2[i0:i1, j0:j1]
            better = local < window
            np.copyto(window, local, where=better)
            np.copyto(owner[i0:i1, j0:j1], k, where=better)
        return owner, rho2


def _half_width(s: Sections, k: int) -> float:
    """Largest |u| of conic k (its x half-extent about cx), by symmetry of the row formula."""
    swapped = Sections(
        s.cy[k : k + 1],
        s.cx[k : k + 1],
        s.qyy[k : k + 1],
        s.qxy[k : k + 1],
        s.qxx[k : k + 1],
        s.qy[k : k + 1],
        s.qx[k : k + 1],
        s.q0[k : k + 1],
    )
    lower, upper = swapped.row_range()
    return float(max(abs(lower[0]), abs(upper[0])))


def circle_spans(
    x: np.ndarray, y: np.ndarray, cx: np.ndarray, cy: np.ndarray, r2: np.ndarray
) -> Spans:
    """(row, first column, stop column) of every row interval inside circles (r2 > 0)."""
    keep = r2 > 0
    cx, cy, r2 = cx[keep], cy[keep], r2[keep]
    radius = np.sqrt(r2)
    first = np.searchsorted(y, cy - radius, side="right")
    stop = np.searchsorted(y, cy + radius, side="left")
    rows_each = np.maximum(stop - first, 0)
    circle = np.repeat(np.arange(cx.size), rows_each)
    start_of = np.repeat(np.cumsum(rows_each) - rows_each, rows_each)
    row = np.repeat(first, rows_each) + (np.arange(circle.size) - start_of)
    dy = y[row] - cy[circle]
    half = np.sqrt(np.maximum(r2[circle] - dy * dy, 0.0))
    start = np.searchsorted(x, cx[circle] - half, side="right")
    end = np.searchsorted(x, cx[circle] + half, side="left")
    inside = end > start
    return row[inside], start[inside], end[inside]


def cover_counts(shape: tuple[int, int], weighted_spans: list[tuple[Spans, int]]) -> np.ndarray:
    """Sum over span sets of weight x (shapes of the set containing each pixel), int16 (H, W).

    Giving sets weights 1, 2**5 and 2**7 packs three counts in one pass (as long as each stays
    within its bits); int16 halves the memory the cumulative sum walks through.
    """
    height, width = shape
    counts = np.zeros((height, width), dtype=np.int16)
    for (row, start, end), weight in weighted_spans:
        np.add.at(counts, (row, start), weight)
        inside = end < width  # a span that runs to the last column needs no end mark
        np.add.at(counts, (row[inside], end[inside]), -weight)
    return np.cumsum(counts, axis=1, dtype=np.int16, out=counts)
