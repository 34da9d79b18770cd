"""Registering a slice's SIMS maps on its SE image: the recorded geometry first, then a
correlation that may only refine it.

Why both: the run records where each product's field sat (``RunData.field``: the SE image and
the SIMS raster of a slice share the beam, hence the field centre, with their own pixel sizes
and extents), which places every SIMS pixel on the SE image exactly as far as the recorded
geometry is right. What the geometry cannot know (a beam-shift calibration error, the drift
between the image and the raster, two scan generators that do not centre alike) is measured by
correlating the SE image, binned onto the SIMS pixels, with the total-ion SIMS map. The search
is confined to a few SIMS pixels around the geometric solution, so a slice poor in structure
can never throw its maps across the field; a refinement that is weak or lands on the edge of
the window is not applied, and is recorded as such.

Conventions: a grid's pixel (row r, column c) covers ``[left + c p, left + (c + 1) p)`` in x and
likewise in y, ``left = centre_x - W p / 2`` (the geometry of :mod:`fibsims.data.run_reader`);
fractional pixel coordinates put pixel centres on integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse

from fibsims.data.run_reader import Field

NM_PER_UM = 1000.0


@dataclass(frozen=True)
class Grid:
    """A square-pixel grid in the face frame (um)."""

    pixel_size_um: float
    width_px: int
    height_px: int
    center_x_um: float
    center_y_um: float

    @classmethod
    def of(cls, field: Field, index: int) -> Grid:
        """The field of slice ``index`` of a product."""
        x, y = (float(v) for v in field.center_um[index])
        return cls(field.pixel_size_nm / NM_PER_UM, field.width_px, field.height_px, x, y)

    @property
    def left_um(self) -> float:
        return self.center_x_um - self.width_px * self.pixel_size_um / 2

    @property
    def top_um(self) -> float:
        return self.center_y_um - self.height_px * self.pixel_size_um / 2

    def x_edges_um(self) -> np.ndarray:
        return self.left_um + np.arange(self.width_px + 1) * self.pixel_size_um

    def y_edges_um(self) -> np.ndarray:
        return self.top_um + np.arange(self.height_px + 1) * self.pixel_size_um

    def x_um(self) -> np.ndarray:
        """Pixel centres across (um)."""
        return self.left_um + (np.arange(self.width_px) + 0.5) * self.pixel_size_um

    def y_um(self) -> np.ndarray:
        """Pixel centres down (um)."""
        return self.top_um + (np.arange(self.height_px) + 0.5) * self.pixel_size_um

    def shifted(self, rows_px: float, cols_px: float) -> Grid:
        """The same grid moved by a number of its own pixels (down, across)."""
        p = self.pixel_size_um
        return Grid(
            p,
            self.width_px,
            self.height_px,
            self.center_x_um + cols_px * p,
            self.center_y_um + rows_px * p,
        )

    def offset_px(self, other: Grid) -> tuple[float, float]:
        """Where ``other``'s first pixel sits on this grid, in this grid's pixels (row, col)."""
        p = self.pixel_size_um
        return (other.top_um - self.top_um) / p, (other.left_um - self.left_um) / p


@dataclass(frozen=True)
class PixelMap:
    """SIMS pixel (row, col) -> SE pixel (row, col), both fractional, centres on integers:
    ``se = offset + scale * sims``. ``scale`` is SE pixels per SIMS pixel."""

    scale: float
    offset_row: float
    offset_col: float

    def __call__(self, row: np.ndarray | float, col: np.ndarray | float) -> tuple:
        return self.offset_row + self.scale * np.asarray(row), self.offset_col + self.scale * (
            np.asarray(col)
        )


def sims_to_se(sims: Grid, se: Grid) -> PixelMap:
    """The geometric mapping of a SIMS raster's pixels onto an SE image's pixels.

    A SIMS pixel centre c lies at ``x = left_s + (c + 1/2) p_s``; on the SE image that is column
    ``(x - left_e) / p_e - 1/2``: a scale ``p_s / p_e`` and an offset from the two fields' left
    (top) edges, which differ when the extents differ even about a shared centre."""
    scale = sims.pixel_size_um / se.pixel_size_um
    half = 0.5 * scale - 0.5
    return PixelMap(
        scale,
        (sims.top_um - se.top_um) / se.pixel_size_um + half,
        (sims.left_um - se.left_um) / se.pixel_size_um + half,
    )


def overlap_lengths(source_edges: np.ndarray, target_edges: np.ndarray) -> np.ndarray:
    """(targets, sources): the length each target bin shares with each source bin."""
    lo = np.maximum(target_edges[:-1, None], source_edges[None, :-1])
    hi = np.minimum(target_edges[1:, None], source_edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def bin_image(
    image: np.ndarray, source: Grid, target: Grid, min_coverage: float = 0.5
) -> np.ndarray:
    """Area-weighted mean of ``image`` (on ``source``) over each pixel of ``target``.

    Why area weights rather than block means: the SE pixels need not tile the SIMS pixels
    (the default run's fields differ in extent, and a refinement moves the target by a fraction
    of a pixel), and each SE pixel must count by the share of it a SIMS pixel covers. A target
    pixel covered less than ``min_coverage`` by the image is NaN (float32 result). The weights
    are separable and sparse (a SIMS row overlaps a few SE rows), hence two sparse products."""
    wy = sparse.csr_array(overlap_lengths(source.y_edges_um(), target.y_edges_um()))
    wx = sparse.csr_array(overlap_lengths(source.x_edges_um(), target.x_edges_um()))
    rows = wy @ np.asarray(image, dtype=np.float64)  # (target rows, source columns)
    total = (wx @ rows.T).T
    covered = np.outer(wy.sum(axis=1), wx.sum(axis=1))
    area = target.pixel_size_um**2
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / covered
    mean[covered < min_coverage * area] = np.nan
    return mean.astype(np.float32)


@dataclass(frozen=True)
class Refinement:
    """What the correlation found for one slice, in SIMS pixels (rows down, cols across).

    ``found_*``: where the SIMS map really sits relative to the geometric solution (its pixel
    p shows what the SE image shows at geometric position p + found). ``applied`` is False when
    the peak was weak (``correlation`` below the threshold), lay on the edge of the search
    window (the true shift may be larger: not trusted), or there was too little overlap; the
    geometric solution then stands and ``row_px``/``col_px`` are 0."""

    found_row_px: float
    found_col_px: float
    correlation: float
    applied: bool
    reason: str

    @property
    def row_px(self) -> float:
        return self.found_row_px if self.applied else 0.0

    @property
    def col_px(self) -> float:
        return self.found_col_px if self.applied else 0.0


def _valid_box(valid: np.ndarray) -> tuple[slice, slice] | None:
    """The rows where ``valid`` holds throughout, and the columns where it holds on them (the
    SE image's footprint: a rectangle)."""
    rows = np.flatnonzero(valid.all(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(valid[rows[0] : rows[-1] + 1].all(axis=0))
    if cols.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _vertex(left: float, mid: float, right: float) -> float:
    """Sub-pixel offset of a parabola's vertex through three samples (within +-0.5)."""
    curvature = left - 2 * mid + right
    if curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def refine_shift(
    reference: np.ndarray,
    moving: np.ndarray,
    max_shift_px: float = 3.0,
    min_correlation: float = 0.2,
) -> Refinement:
    """The shift s (rows, cols) with ``moving[p] ~ reference[p + s]``, |s| <= ``max_shift_px``.

    ``reference``: the SE image binned onto the SIMS pixels (NaN outside its footprint);
    ``moving``: the total-ion SIMS map. Cross-correlation of the zero-mean images over the
    footprint, zero-padded so it does not wrap and divided by the overlap at each lag (else
    the shrinking overlap biases the peak towards 0), searched only within the window; the
    integer peak is refined by a parabola through its neighbours. Plain (not phase-whitened)
    correlation, because the SIMS maps hold a few counts per pixel and whitening would weigh
    their shot noise like structure."""
    box = _valid_box(np.isfinite(reference))
    limit = int(np.floor(max_shift_px))
    if box is None or min(box[0].stop - box[0].start, box[1].stop - box[1].start) <= 2 * limit:
        return Refinement(0.0, 0.0, 0.0, False, "too little overlap")
    a = np.asarray(reference[box], dtype=np.float64)
    b = np.asarray(moving[box], dtype=np.float64)
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if norm == 0.0:
        return Refinement(0.0, 0.0, 0.0, False, "no contrast")
    shape = (a.shape[0] + limit + 1, a.shape[1] + limit + 1)
    # xc[s] = sum_p a(p + s) b(p): the circular index -s wraps to the end of the padded array
    xc = np.fft.irfft2(np.fft.rfft2(a, shape) * np.conj(np.fft.rfft2(b, shape)), shape) / norm
    lags = np.arange(-limit - 1, limit + 2)
    window = xc[np.ix_(lags % shape[0], lags % shape[1])]  # lags -limit-1 .. limit+1
    # per pixel of overlap: the overlap shrinks with the lag, which would pull the peak to 0
    rows, cols = a.shape
    window *= np.outer(rows / (rows - np.abs(lags)), cols / (cols - np.abs(lags)))
    inner = window[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(inner)), inner.shape)
    peak = float(inner[r, c])
    r, c = r + 1, c + 1  # index in ``window``
    row = float(lags[r]) + _vertex(window[r - 1, c], window[r, c], window[r + 1, c])
    col = float(lags[c]) + _vertex(window[r, c - 1], window[r, c], window[r, c + 1])
    if window[r, c] < max(window[r - 1, c], window[r + 1, c], window[r, c - 1], window[r, c + 1]):
        # the best lag inside the window has a higher neighbour outside it
        return Refinement(row, col, peak, False, "peak on the edge of the search window")
    if abs(row) > max_shift_px or abs(col) > max_shift_px:
        return Refinement(row, col, peak, False, "beyond the search limit")
    if peak < min_correlation:
        return Refinement(row, col, peak, False, "weak correlation")
    return Refinement(row, col, peak, True, "applied")


LEVELS = 32
"""SE intensity classes of the level-to-ions look-up table (quantiles of the image)."""


def se_levels(se_image: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """Each SE pixel's intensity class (uint8): ``levels`` quantiles of the image.

    Integer images (the SE counts) are classed through a table over their values, which costs
    a histogram instead of a sort of the whole image."""
    image = np.asarray(se_image)
    probabilities = np.linspace(0.0, 1.0, levels + 1)[1:-1]
    if image.dtype.kind in "ui" and image.size and image.min() >= 0:
        histogram = np.bincount(image.ravel())
        cumulative = np.cumsum(histogram) / image.size
        edges = np.searchsorted(cumulative, probabilities, side="left") + 0.5
        table = np.searchsorted(edges, np.arange(histogram.size), side="right")
        return table.astype(np.uint8)[image]
    edges = np.quantile(image, probabilities)
    return np.searchsorted(edges, image, side="right").astype(np.uint8)


def _predict(level: np.ndarray, se: Grid, ions: np.ndarray, sims: Grid, levels: int) -> np.ndarray:
    """The level-to-mean-ions table learnt with the ions placed on ``sims``, applied to every
    SE pixel (float32). A class with no pixel under the raster takes the mean of the others."""
    rows = np.floor((se.y_um() - sims.top_um) / sims.pixel_size_um).astype(np.int64)
    cols = np.floor((se.x_um() - sims.left_um) / sims.pixel_size_um).astype(np.int64)
    in_rows = (rows >= 0) & (rows < sims.height_px)
    in_cols = (cols >= 0) & (cols < sims.width_px)
    under = ions[np.ix_(rows[in_rows], cols[in_cols])].ravel()
    classes = level[np.ix_(in_rows, in_cols)].ravel()
    total = np.bincount(classes, weights=under, minlength=levels)
    count = np.bincount(classes, minlength=levels)
    table = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    fill = np.nanmean(table) if np.isfinite(table).any() else 0.0
    table = np.where(np.isfinite(table), table, fill).astype(np.float32)
    return table[level]


def ions_predicted_from_se(
    se_image: np.ndarray, se: Grid, ions: np.ndarray, sims: Grid, levels: int = LEVELS
) -> np.ndarray:
    """The SE image seen through a look-up table from SE level to mean total ions (full SE
    resolution), the table learnt from this slice with the SIMS map placed on ``sims``.

    Why: the SE level and the ion yield are both functions of the phase, but not the same
    function (in the twin's NMC811 the carbon binder is the brightest SE phase and sends none
    of the mapped ions; pores are dark in both), so the raw SE image correlates poorly, and at
    the wrong shift, with the total-ion map. The table turns SE levels into expected ions
    whatever the contrast, and a misplacement of a few pixels only blurs the table."""
    level = se_levels(se_image, levels)
    return _predict(level, se, np.asarray(ions, dtype=np.float64), sims, levels)


def register_slice(
    se_image: np.ndarray,
    se: Grid,
    ions: np.ndarray,
    sims: Grid,
    max_shift_px: float = 3.0,
    min_correlation: float = 0.2,
    iterations: int = 2,
) -> Refinement:
    """Refine the geometric placement ``sims`` of a total-ion map on its SE image.

    Each iteration learns the SE-level-to-ions table at the current placement
    (:func:`ions_predicted_from_se`), bins the prediction onto the geometric SIMS pixels and
    correlates it with the ions (:func:`refine_shift`). The first learns from the ions
    smoothed over half the search window, so that features smaller than the offset still
    pair SE levels with their ions; the next ones learn, unsmoothed, at the shift found."""
    ions = np.asarray(ions, dtype=np.float64)
    level = se_levels(se_image)
    found = Refinement(0.0, 0.0, float("nan"), False, "not run")
    for iteration in range(max(1, iterations)):
        placed = sims.shifted(found.row_px, found.col_px)
        sigma_px = max_shift_px / 2 if iteration == 0 else 0.0
        teacher = ndimage.gaussian_filter(ions, sigma_px) if sigma_px > 0 else ions
        predicted = _predict(level, se, teacher, placed, LEVELS)
        reference = bin_image(predicted, se, sims)
        found = refine_shift(reference, ions, max_shift_px, min_correlation)
    return found
