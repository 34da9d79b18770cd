"""SIMS pixels sample the face over their area: a crack narrower than a pixel lowers the pixel's
signal (and its truth) by its area share, neither 0 nor 1."""

from __future__ import annotations

import numpy as np
import pytest

from fibsims.instrument import Polarity, RasterRequest, ScanRequest
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters
from fibsims_twin.tof_counts import DepthStack, pixel_mean, subpixel_axis

X_NMC = 0.7
LI_FRACTION = X_NMC / (X_NMC + 3.0)


class StripedFace:
    """A face of NMC (x = 0.7) on a sub-pixel grid with epoxy-filled columns (a crack)."""

    def __init__(self, shape: tuple[int, int], crack_columns: list[int]) -> None:
        self.labels = np.full(shape, Material.NMC811, dtype=np.uint8)
        self.labels[:, crack_columns] = Material.PORE
        nmc = self.labels == Material.NMC811
        self.soc = np.where(nmc, np.float32(X_NMC), np.float32(0.0))
        self.li_fraction = np.where(nmc, np.float32(LI_FRACTION), np.float32(0.0))

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    def atomic_fraction(self, element: str) -> np.ndarray:
        if element == "Li":
            return self.li_fraction
        return np.zeros(self.shape, dtype=np.float32)


def _li_ions(k: int, crack_columns: list[int]) -> tuple[np.ndarray, DepthStack]:
    face = StripedFace((2 * k, 2 * k), crack_columns)  # 2 x 2 pixels of k x k samples
    yields = np.array([8.0, 7.5, 7.0, 0.0])  # atoms per ion by label
    stack = DepthStack.sample([face], 1e6, yields, subpixel=k)  # type: ignore[list-item]
    return stack.emitted_ions("Li", Polarity.POSITIVE, TofParameters()), stack


def test_a_thin_crack_lowers_a_pixel_by_its_area_share() -> None:
    k = 4
    clean, _ = _li_ions(k, [])
    cracked, stack = _li_ions(k, [1])  # one of the k sample columns of the first pixel column
    share = cracked[:, 0] / clean[:, 0]
    np.testing.assert_allclose(share, 1 - 1 / k, rtol=1e-6)  # 0.75: not 0, not 1
    np.testing.assert_allclose(cracked[:, 1], clean[:, 1], rtol=1e-6)  # the next pixel: intact
    # the truth the raster reports is the same pixel average
    truth = stack.truth()
    np.testing.assert_allclose(truth["li_fraction"][:, 0], (1 - 1 / k) * LI_FRACTION, rtol=1e-6)
    assert (truth["labels"] == Material.NMC811).all()  # the majority phase of each pixel


def test_one_sample_per_pixel_aliases_the_same_crack_to_all_or_nothing() -> None:
    hit, _ = _li_ions(1, [0])
    miss, _ = _li_ions(1, [])
    assert hit[0, 0] == 0.0 and miss[0, 0] > 0.0


def test_sub_pixel_samples_tile_each_pixel_evenly() -> None:
    centres = np.array([0.0, 0.078, 0.156])
    samples = subpixel_axis(centres, 0.078, 2)
    np.testing.assert_allclose(samples[:2], [-0.0195, 0.0195])
    assert np.all(np.diff(samples) > 0)
    np.testing.assert_allclose(
        pixel_mean(np.arange(16.0).reshape(4, 4), 2), [[2.5, 4.5], [10.5, 12.5]]
    )
    assert subpixel_axis(centres, 0.078, 1) is centres


def test_the_twin_reports_area_averaged_truth_on_the_raster_pixels(make_twin) -> None:
    twin = make_twin()
    twin.column.set_current_na(0.3)
    twin.column.unblank()
    scan = ScanRequest((64, 64), 50.0, 2, 5.0)
    twin.tof.acquire_raster(RasterRequest(scan, Polarity.POSITIVE, ("7Li+",)))
    truth = twin.truth.last_raster_truth()
    assert truth["li_fraction"].shape == (64, 64)
    stack = twin.tof.last_stack
    assert stack.faces[0].shape == (128, 128)  # 2 x 2 samples per pixel by default
    fine = stack.faces[0].li_fraction
    np.testing.assert_allclose(
        truth["li_fraction"], fine.reshape(64, 2, 64, 2).mean(axis=(1, 3)), rtol=1e-5, atol=1e-7
    )
    assert truth["li_fraction"].mean() == pytest.approx(float(fine.mean()), rel=1e-5)


def test_the_face_advances_by_the_least_receded_phase_on_the_field() -> None:
    per_phase = np.array([0.042, 0.021, 0.031, 0.0])  # epoxy, NMC, CBD, vacuum (um)
    _, mixed = _li_ions(2, [1])
    assert mixed.face_advance_um(per_phase) == pytest.approx(0.021)
    _, epoxy = _li_ions(2, [0, 1, 2, 3])
    assert epoxy.face_advance_um(per_phase) == pytest.approx(0.042)
    np.testing.assert_allclose(mixed.sputtered_depth_um(per_phase)[:, 0], (0.021 + 0.042) / 2)
