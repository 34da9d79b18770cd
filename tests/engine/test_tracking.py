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


# -- the reference is prepared once (issue 13) ------------------------------------------------
@pytest.fixture
def fresh_references(monkeypatch):
    """An empty store of prepared references, so counts start at zero."""
    from collections import OrderedDict

    import fibsims.engine.tracking as tracking

    monkeypatch.setattr(tracking, "_prepared", OrderedDict())
    return tracking


def _band_pass_calls(monkeypatch, tracking) -> list[int]:
    calls: list[int] = []
    real = tracking.band_pass

    def counted(window, mark_px):
        calls.append(window.size)
        return real(window, mark_px)

    monkeypatch.setattr(tracking, "band_pass", counted)
    return calls


def test_a_reference_is_band_passed_once_however_many_windows_are_registered_on_it(
    fresh_references, monkeypatch
):
    calls = _band_pass_calls(monkeypatch, fresh_references)
    reference = _face(1)
    for seed, shift_px in [(2, 0.3), (3, -1.7), (4, 2.0)]:
        register(reference, _face(seed, shift_px=shift_px), BAR)
    assert len(calls) == 1 + 3, "the reference once, then each moving window"


@pytest.mark.parametrize("shift_px", [0.0, 0.3, -1.7, 4.25])
def test_registration_correlates_the_spectra_of_both_band_passed_windows_as_before(
    fresh_references, monkeypatch, shift_px
):
    """The prepared reference changes nothing: phase correlation is given, bit for bit, the
    spectra of both windows band-passed afresh, and finds the shift it finds on the windows
    themselves (as it was called before the reference was kept)."""
    import skimage.registration
    from scipy.fft import fftn

    from fibsims.engine.tracking import UPSAMPLE, band_pass

    given: list[tuple[np.ndarray, np.ndarray]] = []
    real = skimage.registration.phase_cross_correlation

    def watched(reference, moving, **kwargs):
        given.append((reference, moving))
        return real(reference, moving, **kwargs)

    reference, moved = _face(1), _face(2, shift_px=shift_px)
    register(reference, _face(7), BAR)  # the reference prepared by an earlier slice
    monkeypatch.setattr(skimage.registration, "phase_cross_correlation", watched)
    dx, dy, _ = register(reference, moved, BAR)
    ref_band, moved_band = (band_pass(core_map(w), BAR[0]) for w in (reference, moved))
    assert np.array_equal(given[0][0], fftn(ref_band))
    assert np.array_equal(given[0][1], fftn(moved_band))
    shift, _, _ = real(ref_band, moved_band, upsample_factor=UPSAMPLE, normalization=None)
    assert (dx, dy) == (-float(shift[1]), -float(shift[0]))


def test_a_reference_changed_in_place_is_prepared_again(fresh_references):
    reference, moved = _face(1), _face(2, shift_px=1.5)
    register(reference, moved, BAR)
    reference[:] = _face(3, shift_px=-2.0)  # the same array, another window
    assert register(reference, moved, BAR) == register(_face(3, shift_px=-2.0), moved, BAR)
    assert register(reference, moved, BAR)[0] == pytest.approx(3.5, abs=0.15)


def test_the_sub_pixel_refinement_runs_blas_on_one_thread(monkeypatch):
    """Its products are too small to share: a second OpenBLAS thread costs more than it
    saves, above all on a loaded machine."""
    import skimage.registration
    from threadpoolctl import threadpool_info, threadpool_limits

    seen: list[int] = []
    real = skimage.registration.phase_cross_correlation

    def watched(*args, **kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(*args, **kwargs)

    monkeypatch.setattr(skimage.registration, "phase_cross_correlation", watched)
    with threadpool_limits(limits=2, user_api="blas"):  # as on a machine of two cores or more
        register(_face(1), _face(2, shift_px=0.5), BAR)
        after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert seen and set(seen) == {1}
    assert set(after) == {2}, "the rest of the process keeps its threads"
