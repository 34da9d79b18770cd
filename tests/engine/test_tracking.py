"""Finding a fiducial mark: its dark core is registered to a fraction of a pixel whatever
changes in the face around it, and round pores are never taken for it."""

from __future__ import annotations

import numpy as np
import pytest

from fibsims.engine.tracking import Grid, MarkNotFound, core_map, crop, locate_bar, register
from fibsims.instrument.types import ScanRequest

BAR = (14.0, 60.0)  # a mark's section in pixels: width, height


def _face(seed: int, shape=(101, 81), shift_px: float = 0.0) -> np.ndarray:
    """Grains of random brightness and an epoxy region, with an empty groove (the mark)."""
    rng = np.random.default_rng(seed)
    grains = rng.uniform(800, 1200, (shape[0] // 10 + 1, shape[1] // 10 + 1))
    face = np.kron(grains, np.ones((10, 10)))[: shape[0], : shape[1]]
    face[:, : shape[1] // 5] = 600  # epoxy beside the mark (60 % of the face)
    cols = np.arange(shape[1]) - (shape[1] - 1) / 2 - shift_px
    rows = np.arange(shape[0]) - (shape[0] - 1) / 2
    across = np.clip(BAR[0] / 2 + 0.5 - np.abs(cols), 0, 1)  # the share of a pixel it covers
    down = (np.abs(rows) <= BAR[1] / 2).astype(float)
    covered = down[:, None] * across[None, :]
    face = face * (1 - covered) + 40 * covered  # a groove emits almost nothing
    return rng.poisson(face).astype(np.float64)


@pytest.mark.parametrize("shift_px", [0.0, 0.3, -1.7, 4.25])
def test_a_mark_is_registered_to_a_fraction_of_a_pixel_on_a_face_that_changed(shift_px):
    reference = _face(1)
    moved = _face(2, shift_px=shift_px)  # other grains, the mark moved
    dx, dy, score = register(reference, moved, BAR)
    assert dx == pytest.approx(shift_px, abs=0.15) and dy == pytest.approx(0.0, abs=0.15)
    assert score > 0.9


def test_the_core_map_holds_the_groove_and_not_the_epoxy():
    core = core_map(_face(3))
    assert core[:, :16].max() == 0, "epoxy (a pore's filling) is no mark"
    assert core[50, 40] > 0


def test_a_window_without_the_mark_scores_poorly():
    empty = _face(4)
    empty[empty < 200] = 1000  # the groove filled in
    assert register(_face(5), empty, BAR)[2] < 0.5


def test_a_round_pore_is_not_taken_for_a_mark():
    face = np.full((121, 121), 1000.0)
    yy, xx = np.mgrid[:121, :121]
    face[(yy - 60) ** 2 + (xx - 60) ** 2 < 15**2] = 30  # darker than the mark, but round
    with pytest.raises(MarkNotFound):
        locate_bar(face, BAR)
    face[30:91, 20:34] = 40  # now a mark of the right size beside it
    dx, dy = locate_bar(face, BAR)
    assert dx == pytest.approx(26.5 - 60, abs=1.5) and dy == pytest.approx(0, abs=1.5)


def test_a_window_that_leaves_the_image_says_so():
    grid = Grid.of(ScanRequest((100, 100), 1.0, 1, 10.0))
    with pytest.raises(MarkNotFound, match="leaves the field"):
        crop(np.zeros((100, 100)), grid, (4.9, 0.0), (0.5, 0.5))
    window, at = crop(np.zeros((100, 100)), grid, (0.03, 0.0), (0.5, 0.5))
    assert at[0] == pytest.approx(0.05), "the window's own centre, on whole pixels"
    assert window.shape == (101 // 10 + 1, 101 // 10 + 1) or window.shape[0] == window.shape[1]
