"""The two scores the report compares with truth: Pearson's r (pooled over a run) and Dice.

Why an accumulator: the 7Li+ maps and their truth are read slice by slice; the sums let r
over every pixel of the run be had without holding the run in memory.
"""

from __future__ import annotations

import numpy as np


class Pearson:
    """Pearson's r of pairs seen in batches (float64 sums)."""

    def __init__(self) -> None:
        self.n = 0
        self.sums = np.zeros(5)  # x, y, xx, yy, xy

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x, y = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
        self.n += x.size
        self.sums += [x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()]

    @property
    def r(self) -> float | None:
        """None when there is nothing to correlate (no pairs, or one side constant)."""
        if self.n < 2:
            return None
        sx, sy, sxx, syy, sxy = self.sums / self.n
        vx, vy = sxx - sx * sx, syy - sy * sy
        if vx <= 1e-12 * max(1.0, sxx) or vy <= 1e-12 * max(1.0, syy):
            return None
        return float((sxy - sx * sy) / np.sqrt(vx * vy))


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r of two arrays of pairs."""
    acc = Pearson()
    acc.add(x, y)
    return acc.r


class Overlap:
    """Dice, precision and recall of a found mask against a true one, summed in batches."""

    def __init__(self) -> None:
        self.found = 0
        self.true = 0
        self.both = 0

    def add(self, found: np.ndarray, true: np.ndarray) -> None:
        self.found += int(np.count_nonzero(found))
        self.true += int(np.count_nonzero(true))
        self.both += int(np.count_nonzero(found & true))

    @property
    def dice(self) -> float | None:
        total = self.found + self.true
        return 2 * self.both / total if total else None

    @property
    def precision(self) -> float | None:
        return self.both / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.both / self.true if self.true else None
