"""Ion-induced SE images: the signal model N = (I tau / e) * delta * eps, noise and timing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from fibsims.instrument import InstrumentError, ScanRequest
from fibsims_twin.materials import Material
from fibsims_twin.parameters import DetectorParameters
from fibsims_twin.scan import pixel_axes

E_C = 1.602176634e-19
SMALL = (384, 256)


def image(twin, current_na=0.1, dwell_us=1.0, frames=1, resolution=SMALL, field_um=20.0):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    request = ScanRequest(resolution, dwell_us, frames, field_um)
    return request, twin.se_detector.acquire_image(request)


def truth_labels(twin, request):
    x, y = pixel_axes(request, twin.state.field_centre_um())
    return twin.phantom.face(twin.state.face_z_um, x, y).labels


def interior(labels, material, margin_px=6):
    """Pixels of ``material`` at least ``margin_px`` from any other phase (out of blur reach)."""
    return ndimage.binary_erosion(labels == material, iterations=margin_px)


def test_se_counts_scale_with_current_dwell_and_frames(make_twin) -> None:
    base = image(make_twin(), 0.1, 1.0, 1)[1].pixels.mean()
    assert image(make_twin(), 0.8, 1.0, 1)[1].pixels.mean() / base == pytest.approx(8.0, rel=0.01)
    assert image(make_twin(), 0.1, 4.0, 1)[1].pixels.mean() / base == pytest.approx(4.0, rel=0.01)
    assert image(make_twin(), 0.1, 1.0, 3)[1].pixels.mean() / base == pytest.approx(3.0, rel=0.01)


def test_each_phase_emits_its_se_yield_and_the_binder_is_brightest(make_twin) -> None:
    p = DetectorParameters()
    twin = make_twin(sample={"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.3}})
    request, img = image(twin, 0.1, 3.0, 2, resolution=(768, 512))
    labels = truth_labels(twin, request)
    primaries = 0.1e-9 * 3e-6 / E_C * 2
    yields = {
        Material.PORE: p.se_yield_pore_filler_per_ion,
        Material.NMC811: p.se_yield_nmc811_per_ion,
        Material.CBD: p.se_yield_cbd_per_ion,
    }
    means = {}
    for material, se_yield in yields.items():
        inside = interior(labels, material, margin_px=3)
        assert inside.sum() > 200, material
        means[material] = img.pixels[inside].mean()
        assert means[material] == pytest.approx(
            primaries * se_yield * p.detection_efficiency, rel=0.01
        )
    assert means[Material.CBD] > means[Material.NMC811] > means[Material.PORE]


def test_image_noise_is_shot_noise(make_twin) -> None:
    twin = make_twin()
    request, img = image(twin, 0.1, 1.0, 1)
    inside = interior(truth_labels(twin, request), Material.NMC811)
    counts = img.pixels[inside].astype(float)
    assert counts.size > 10_000
    assert counts.var() / counts.mean() == pytest.approx(1.0, rel=0.05)


def test_image_duration_is_dwell_plus_line_flyback_and_advances_the_clock(twin) -> None:
    p = DetectorParameters()
    twin.column.unblank()
    start = twin.clock.now_s()
    img = twin.se_detector.acquire_image(ScanRequest((1536, 1024), 3.0, 2, 20.0))
    expected = 2 * (1536 * 1024 * 3e-6 + 1024 * p.line_flyback_s)
    assert img.duration_s == pytest.approx(expected)
    assert twin.clock.now_s() - start == pytest.approx(expected)
    assert img.pixels.shape == (1024, 1536) and img.pixels.dtype == np.uint16
    assert img.pixel_size_nm == pytest.approx(20_000 / 1536)


def test_counts_beyond_uint16_are_clipped_and_reported(twin) -> None:
    _, img = image(twin, 15.0, 10.0, 2)
    assert img.pixels.max() == 65535
    assert img.saturated_fraction > 0.5
    assert img.saturated_fraction == pytest.approx(np.mean(img.pixels == 65535), abs=1e-3)


def test_blanked_beam_refuses_to_image(twin) -> None:
    with pytest.raises(InstrumentError, match="blanked"):
        twin.se_detector.acquire_image(ScanRequest(SMALL, 1.0, 1, 20.0))
    assert twin.clock.now_s() == 0.0


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ScanRequest(SMALL, 0.0, 1, 20.0), "dwell_us"),
        (ScanRequest(SMALL, 1.0, 0, 20.0), "frames"),
        (ScanRequest((0, 256), 1.0, 1, 20.0), "resolution_px"),
        (ScanRequest(SMALL, 1.0, 1, -5.0), "field_width_um"),
    ],
)
def test_impossible_scan_is_refused_naming_the_field(twin, request_, field) -> None:
    twin.column.unblank()
    with pytest.raises(InstrumentError, match=field):
        twin.se_detector.acquire_image(request_)


def test_beam_shift_moves_the_field_over_the_sample(make_twin) -> None:
    pitch_um = 20.0 / SMALL[0]
    plain = make_twin()
    shifted = make_twin()
    shifted.column.set_beam_shift_um((10 * pitch_um, 0.0))
    request = ScanRequest(SMALL, 1.0, 1, 20.0)
    np.testing.assert_array_equal(
        shifted.se_detector.expected_counts(request)[:, :-10],
        plain.se_detector.expected_counts(request)[:, 10:],
    )
