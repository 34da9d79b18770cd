"""Finding the fiducial's marks in an SE image: pure image analysis, no instrument.

Reference: where the first image shows each mark, found from its profile (a mark's cross-
section is a dark bar: a milled groove emits almost nothing), plus a band-passed crop of it.
Tracking: each later image's crop, placed where the mark should be, is registered on the
reference crop by phase correlation with sub-pixel upsampling (scikit-image), after a
difference-of-Gaussians band-pass that keeps the mark's edges and drops both the pixel noise
and the slow shading. Why band-pass: the face behind the mark changes every slice; the mark's
edges do not. The match score is the normalised correlation of the two crops once aligned.

Image frame: x = (column + 0.5 - width / 2) x pixel, y likewise with rows (the field's centre
is 0, x across, y down), as the instrument's scans are laid out.

numpy, scipy and scikit-image are imported inside the functions that use them: importing them
takes about a second (numpy alone a tenth of one), which every command that only compiles a plan
(``estimate``, ``validate``) would otherwise pay.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fibsims.instrument.types import ScanRequest

if TYPE_CHECKING:
    import numpy as np

BAND_LOW_PX = 1.0
"""Smallest detail kept: a pixel's shot noise is below it."""
BAND_HIGH_PX = 12.0
"""Largest structure kept, at least: twice the mark's width when that is more (a band
narrower than the mark would keep only its edges, which phase correlation can confuse)."""
UPSAMPLE = 20
"""Registration to 1/20 of a pixel."""
CORE_PERCENTILE = 2.0
"""The window's darkest pixels: the empty groove (a mark fills several % of its window)."""
CORE_LEVEL = 0.4
"""A pixel belongs to the core below this share of the way from the groove to the face: above
the groove's noise, below the epoxy of a pore (about 60 % of the face in SE yield)."""
MIN_BAR_CONTRAST = 0.5
"""A mark is found when its bar is at least this much darker than its surroundings..."""
MIN_BAR_MATCH = 0.5
"""... and matches a bar of its size at least this well (normalised correlation)."""


@dataclass(frozen=True)
class Grid:
    pixel_um: float
    width: int
    height: int

    @classmethod
    def of(cls, scan: ScanRequest) -> Grid:
        width, height = scan.resolution_px
        return cls(scan.pixel_size_nm / 1000.0, width, height)

    def column(self, x_um: float) -> float:
        return x_um / self.pixel_um + self.width / 2 - 0.5

    def row(self, y_um: float) -> float:
        return y_um / self.pixel_um + self.height / 2 - 0.5


class MarkNotFound(Exception):
    """No dark bar where a mark should be."""


def crop(
    pixels: np.ndarray, grid: Grid, center_um: tuple[float, float], half_um: tuple[float, float]
) -> tuple[np.ndarray, tuple[float, float]]:
    """The window around ``center_um`` and the centre it really has (windows start on whole
    pixels: the difference is the caller's to add back); MarkNotFound if it leaves the image."""
    col, row = round(grid.column(center_um[0])), round(grid.row(center_um[1]))
    hx, hy = max(4, round(half_um[0] / grid.pixel_um)), max(4, round(half_um[1] / grid.pixel_um))
    if col - hx < 0 or row - hy < 0 or col + hx >= grid.width or row + hy >= grid.height:
        raise MarkNotFound(
            f"the window at ({center_um[0]:.2f}, {center_um[1]:.2f}) um leaves the field"
        )
    import numpy as np

    window = pixels[row - hy : row + hy + 1, col - hx : col + hx + 1].astype(np.float64)
    used = (
        (col + 0.5 - grid.width / 2) * grid.pixel_um,
        (row + 0.5 - grid.height / 2) * grid.pixel_um,
    )
    return window, used


def band_pass(window: np.ndarray, mark_px: float) -> np.ndarray:
    """Keep details from a pixel up to about twice the mark's width: the mark whole, its edges
    sharp, neither the pixel noise nor the face's slow shading."""
    from skimage.filters import difference_of_gaussians

    return difference_of_gaussians(window, BAND_LOW_PX, max(BAND_HIGH_PX, 2 * mark_px))


def locate_bar(window: np.ndarray, bar_px: tuple[float, float]) -> tuple[float, float]:
    """The mark's centre in the window, in pixels from the window's centre (dx, dy).

    A mark's cross-section is a dark bar of known size (``bar_px``: width, height): it is
    found by normalised template matching (scikit-image) against a dark bar on a bright
    surround, so a round pore, however dark, does not pass for it."""
    import numpy as np

    width, height = max(2, round(bar_px[0])), max(2, round(bar_px[1]))
    margin = max(2, width)
    template = np.ones((height + 2 * margin, width + 2 * margin))
    template[margin:-margin, margin:-margin] = 0.0
    if template.shape[0] > window.shape[0] or template.shape[1] > window.shape[1]:
        raise MarkNotFound("the window is smaller than the mark")
    from skimage.feature import match_template

    response = match_template(window, template, pad_input=True, mode="edge")
    row, col = np.unravel_index(int(np.argmax(response)), response.shape)
    inside = window[
        max(0, row - height // 2) : row + height // 2 + 1,
        max(0, col - width // 2) : col + width // 2 + 1,
    ]
    background = float(np.median(window))
    if response[row, col] < MIN_BAR_MATCH or inside.mean() > background * (1 - MIN_BAR_CONTRAST):
        raise MarkNotFound(
            f"no dark bar of the mark's size (match {response[row, col]:.2f}) in the window"
        )
    center = np.array(window.shape, dtype=float) / 2 - 0.5
    return float(col - center[1]), float(row - center[0])


def core_map(window: np.ndarray) -> np.ndarray:
    """How far each pixel lies below the level between the window's darkest pixels (the
    mark's empty groove) and its median (the face): the mark's core, and nothing of the face.
    Why: a groove emits almost nothing, far less than even the epoxy of a pore, while its rims
    take the brightness of whatever material borders them, which changes from slice to slice."""
    import numpy as np

    empty = float(np.percentile(window, CORE_PERCENTILE))
    face = float(np.median(window))
    return np.clip(empty + CORE_LEVEL * (face - empty) - window, 0.0, None)


REFERENCES_KEPT = 4
"""Prepared references kept: both marks' current ones, and a new pair after a re-acquisition."""
_prepared: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_prepared_lock = threading.Lock()  # engines in two threads of one process (tests, services)


def _prepared_reference(
    reference: np.ndarray, mark_width_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """The reference's band-passed core map and its spectrum, computed once and kept: a
    reference stays the same for slice after slice while the band-pass of its window costs
    ~5 ms a mark. Keyed by the window's content (a digest), not its identity, so an array
    changed in place or rebuilt on resume is never mistaken for another."""
    import numpy as np

    key = (
        hashlib.blake2b(np.ascontiguousarray(reference).data, digest_size=16).digest(),
        reference.shape,
        reference.dtype.str,
        mark_width_px,
    )
    with _prepared_lock:
        found = _prepared.get(key)
        if found is not None:
            _prepared.move_to_end(key)
            return found
    from scipy.fft import fftn

    band = band_pass(core_map(reference), mark_width_px)
    spectrum = fftn(band)  # the transform phase_cross_correlation takes of a real image
    band.setflags(write=False)
    spectrum.setflags(write=False)
    with _prepared_lock:
        _prepared[key] = band, spectrum
        while len(_prepared) > REFERENCES_KEPT:
            _prepared.popitem(last=False)
    return band, spectrum


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """OpenBLAS on one thread for the sub-pixel refinement. Its matrix products (30 rows by
    the window) are too small to share: waking a second thread took ~10 ms a call on the
    loaded 2-core machine against 0.1 ms on one, and the woken thread then spins on the
    other core. The refined shift is where the upsampled correlation peaks on a 1/20 pixel
    grid, so it does not depend on the last bits of those products (which vary with the
    thread count, and so already with the machine's cores)."""
    return _blas().limit(limits=1, user_api="blas")


def register(
    reference: np.ndarray, moving: np.ndarray, mark_px: tuple[float, float]
) -> tuple[float, float, float]:
    """How far the mark in ``moving`` lies from where it is in ``reference`` (dx, dy in
    pixels), and the match score: the correlation of the two core maps once aligned (1 is
    identical). Both windows are raw (not band-passed) and centred where the mark should be:
    each is reduced to its mark's core (:func:`core_map`), band-passed, and registered by phase
    correlation with sub-pixel upsampling. The reference's half is prepared once
    (:func:`_prepared_reference`)."""
    import numpy as np

    ref, ref_spectrum = _prepared_reference(reference, mark_px[0])
    mov = band_pass(core_map(moving), mark_px[0])
    from scipy import ndimage
    from scipy.fft import fftn
    from skimage.registration import phase_cross_correlation

    with _one_blas_thread():
        shift, _error, _phase = phase_cross_correlation(
            ref_spectrum, fftn(mov), space="fourier", upsample_factor=UPSAMPLE, normalization=None
        )
    aligned = ndimage.shift(mov, shift, order=1, mode="nearest")
    margin = int(np.ceil(np.abs(shift).max())) + 1
    a = ref[margin:-margin, margin:-margin].ravel()
    b = aligned[margin:-margin, margin:-margin].ravel()
    if a.size < 16 or a.std() == 0 or b.std() == 0:
        return -float(shift[1]), -float(shift[0]), 0.0
    score = float(np.corrcoef(a, b)[0, 1])
    return -float(shift[1]), -float(shift[0]), max(0.0, score)
