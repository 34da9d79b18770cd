"""Carrying a grain field from its node grid to the pixels of an image or raster.

Why a module: the grid path of :mod:`fibsims_twin.grains` evaluates grains on nodes a few
times coarser than the pixels; every per-pixel quantity is then read from the nearest node
(one gather per field through a flat index), extended linearly where it is linear (the signed
distance to a boundary), or interpolated bilinearly where it is smooth (the Li depletion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fibsims_twin.grains import GrainGrid, GrainSample


def boundary_gradient(sample: GrainSample) -> tuple[np.ndarray, np.ndarray]:
    """d(signed distance)/dx and /dy across the bisector of each point's two seeds (float32).

    For a fixed pair the signed distance is linear in position, so a pixel near a node reads it
    exactly as the node's value plus these slopes times the offset.
    """
    step = sample.near_seed - sample.next_seed
    step = step / np.sqrt(np.sum(step * step, axis=0))
    sign = np.where(sample.near_key < sample.next_key, 1.0, -1.0)
    return (sign * step[0]).astype(np.float32), (sign * step[1]).astype(np.float32)


@dataclass(frozen=True)
class NodeLookup:
    """Where the pixels of a target grid fall on a node grid: the nearest node (as one flat
    index per pixel, so each field costs a single gather) and bilinear weights."""

    flat: np.ndarray
    dx_um: np.ndarray
    dy_um: np.ndarray
    row: np.ndarray
    col: np.ndarray
    row_weight: np.ndarray
    col_weight: np.ndarray

    @classmethod
    def between(cls, grid: GrainGrid, x_um: np.ndarray, y_um: np.ndarray) -> NodeLookup:
        row, row_w = _bracket(grid.y_um, y_um)
        col, col_w = _bracket(grid.x_um, x_um)
        near_row = row + (row_w >= 0.5)
        near_col = col + (col_w >= 0.5)
        # intp: a take with any other index dtype converts the index first (2.5x slower)
        flat = near_row.astype(np.intp)[:, None] * grid.x_um.size + near_col.astype(np.intp)
        dx = (x_um - grid.x_um[near_col]).astype(np.float32)
        dy = (y_um - grid.y_um[near_row]).astype(np.float32)
        return cls(flat, dx, dy, row, col, row_w, col_w)

    def nearest(self, values: np.ndarray) -> np.ndarray:
        """Values (Hn, Wn) at the node nearest each pixel: (H, W)."""
        return values.reshape(-1).take(self.flat)

    def linear(self, value: np.ndarray, slopes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """value + slope . (pixel - node), from the nearest node: (H, W) float32."""
        out = self.nearest(slopes[0])
        out *= self.dx_um[None, :]
        slope_y = self.nearest(slopes[1])
        slope_y *= self.dy_um[:, None]
        out += slope_y
        out += self.nearest(value)
        return out

    def bilinear(self, values: np.ndarray) -> np.ndarray:
        """Values (Hn, Wn) interpolated to the pixels: (H, W), float32."""
        v = values.astype(np.float32, copy=False)
        wc = self.col_weight.astype(np.float32)
        across = v.take(self.col, axis=1) * (1 - wc) + v.take(self.col + 1, axis=1) * wc
        wr = self.row_weight.astype(np.float32)[:, None]
        top = across.take(self.row, axis=0)
        bottom = across.take(self.row + 1, axis=0)
        top *= 1 - wr
        bottom *= wr
        top += bottom
        return top


def _bracket(nodes: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the node at or below each target, and the fraction of the way to the next."""
    index = np.clip(np.searchsorted(nodes, targets, side="right") - 1, 0, nodes.size - 2)
    weight = (targets - nodes[index]) / (nodes[index + 1] - nodes[index])
    return index, np.clip(weight, 0.0, 1.0)
