"""Ion-induced SE images: N = (I tau / e) delta eps, noise, contrast, curtains, drift, focus."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from scipy import ndimage

from fibsims.instrument import InstrumentError, ScanRequest
from fibsims_twin.materials import Material
from fibsims_twin.parameters import DetectorParameters, TwinParameters

E_C = 1.602176634e-19
SMALL = (384, 256)


def image(twin, current_na=0.1, dwell_us=1.0, frames=1, resolution=SMALL, field_um=20.0):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    request = ScanRequest(resolution, dwell_us, frames, field_um)
    return request, twin.se_detector.acquire_image(request)


def interior(labels, material, margin_px=6):
    """Pixels of ``material`` at least ``margin_px`` from any other phase (out of blur reach)."""
    return ndimage.binary_erosion(labels == material, iterations=margin_px)


def test_se_snr_scales_as_the_square_root_of_current_dwell_and_frames(make_twin) -> None:
    settings = [(0.1, 1.0, 1), (0.8, 1.0, 1), (0.1, 4.0, 1), (0.1, 1.0, 6), (0.3, 2.0, 4)]
    ratios = []
    for current, dwell, frames in settings:
        twin = make_twin(seed=2)
        twin.column.set_current_na(current)
        twin.column.unblank()
        request = ScanRequest(SMALL, dwell, frames, 20.0)
        expected = twin.se_detector.expected_counts(request)
        counts = twin.se_detector.acquire_image(request).pixels.astype(float)
        nmc = interior(twin.truth.last_image_truth()["labels"], Material.NMC811, 2)
        snr = expected[nmc].mean() / (counts - expected)[nmc].std()
        ratios.append(snr / np.sqrt(current * dwell * frames))
    np.testing.assert_allclose(ratios, np.mean(ratios), rtol=0.04)


def test_se_counts_scale_with_current_dwell_and_frames(make_twin, kit) -> None:
    def mean(*setting):
        return image(make_twin(parameters=kit.quiet_parameters()), *setting)[1].pixels.mean()

    base = mean(0.1, 1.0, 1)
    assert mean(0.8, 1.0, 1) / base == pytest.approx(8.0, rel=0.01)
    assert mean(0.1, 4.0, 1) / base == pytest.approx(4.0, rel=0.01)
    assert mean(0.1, 1.0, 3) / base == pytest.approx(3.0, rel=0.01)


def test_each_phase_emits_its_se_yield_and_the_binder_is_brightest(make_twin, kit) -> None:
    p = DetectorParameters()
    twin = make_twin(
        sample={"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.3}},
        parameters=kit.quiet_parameters(),
    )
    _, img = image(twin, 0.1, 3.0, 2, resolution=(768, 512))
    labels = twin.truth.last_image_truth()["labels"]
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


def test_grains_show_by_channelling_contrast(make_twin, kit) -> None:
    spread = {}
    for contrast in (0.0, 0.15):
        quiet = kit.quiet_parameters()
        detector = dataclasses.replace(quiet.detector, grain_channelling_contrast=contrast)
        twin = make_twin(parameters=dataclasses.replace(quiet, detector=detector))
        twin.column.set_current_na(0.1)
        request = ScanRequest((768, 512), 3.0, 2, 20.0)
        expected = twin.se_detector.expected_counts(request)
        twin.column.unblank()
        twin.se_detector.acquire_image(request)
        nmc = interior(twin.truth.last_image_truth()["labels"], Material.NMC811, 3)
        spread[contrast] = expected[nmc].std() / expected[nmc].mean()
    assert spread[0.0] < 0.01  # one phase, one yield
    assert spread[0.15] == pytest.approx(0.15, rel=0.35)  # less the spot's smoothing


def test_the_solid_rim_next_to_a_pore_is_brightened(make_twin, kit) -> None:
    rims = {}
    for gain in (0.0, 0.5):
        quiet = kit.quiet_parameters()
        detector = dataclasses.replace(quiet.detector, edge_brightening_gain=gain)
        twin = make_twin(parameters=dataclasses.replace(quiet, detector=detector))
        twin.column.set_current_na(0.1)
        expected = twin.se_detector.expected_counts(ScanRequest((768, 512), 3.0, 2, 20.0))
        twin.column.unblank()
        twin.se_detector.acquire_image(ScanRequest((768, 512), 3.0, 2, 20.0))
        labels = twin.truth.last_image_truth()["labels"]
        nmc = labels == Material.NMC811
        rim = nmc & ndimage.binary_dilation(labels == Material.PORE)
        rims[gain] = expected[rim].mean() / expected[interior(labels, Material.NMC811)].mean()
    assert rims[0.5] > 1.15 * rims[0.0]


def _stripe_strength(make_twin, kit, angles, contrast_rms):
    quiet = kit.quiet_parameters()
    milling = dataclasses.replace(quiet.milling, curtain_contrast_rms=contrast_rms)
    twin = make_twin(parameters=dataclasses.replace(quiet, milling=milling))
    kit.mill_slice(twin, 0, angles)
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    img = twin.se_detector.acquire_image(ScanRequest((768, 512), 3.0, 2, 20.0))
    return img.pixels.astype(float).mean(axis=0)


@pytest.mark.parametrize("angles", [(-20.0, 20.0), (-20.0, 20.0, -20.0, 20.0)])
def test_curtaining_is_weaker_with_rocking_polish_than_without(make_twin, kit, angles) -> None:
    rms = TwinParameters().milling.curtain_contrast_rms

    def strength(polish):
        striped = _stripe_strength(make_twin, kit, polish, rms)
        clean = _stripe_strength(make_twin, kit, polish, 0.0)  # same face, same noise draws
        return np.std(striped / clean - 1)

    unpolished = strength(())
    not_rocked = strength((0.0, 0.0))  # polishing along the cut keeps the curtains
    rocked = strength(angles)
    assert unpolished == pytest.approx(rms, rel=0.2)
    assert not_rocked == pytest.approx(unpolished, rel=0.05)
    assert rocked < 0.5 * unpolished
    assert rocked == pytest.approx(unpolished * (1 - 0.6) ** len(angles), rel=0.3)


def test_drift_shows_in_uncorrected_images(make_twin, kit) -> None:
    defaults = TwinParameters()
    quiet = kit.quiet_parameters(drift=defaults.drift, detector=defaults.detector)
    twin = make_twin(
        seed=3,
        parameters=dataclasses.replace(
            quiet,
            drift=dataclasses.replace(
                defaults.drift, emission_fluctuation_fraction=0.0, focus_wander_um=0.0
            ),
        ),
    )
    request = ScanRequest((512, 512), 3.0, 1, 10.0)
    pitch_um = 10.0 / 512
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    start = twin.clock.now_s()
    first = twin.se_detector.acquire_image(request).pixels.astype(float)
    twin.clock.sleep(4 * 3600.0)
    second = twin.se_detector.acquire_image(request).pixels.astype(float)
    middle = (512 * 512 * 3e-6 + 512 * defaults.detector.line_flyback_s) / 2
    moved = twin.slow.drift_um(twin.clock.now_s() - middle) - twin.slow.drift_um(start + middle)
    expected_px = moved[:2] / pitch_um
    assert np.hypot(*expected_px) > 3  # a few nm/min for hours: several pixels
    cross = np.fft.fft2(second - second.mean()) * np.conj(np.fft.fft2(first - first.mean()))
    correlation = np.abs(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)))
    peak = np.unravel_index(np.argmax(correlation), correlation.shape)
    shift_px = np.array([(p + 256) % 512 - 256 for p in peak])[::-1]  # (x, y)
    # the sample moved by +d, so its features move by +d across the fixed field
    np.testing.assert_allclose(shift_px, expected_px, atol=1.0)


def test_defocus_widens_the_spot_until_an_autofocus(make_twin, kit) -> None:
    quiet = kit.quiet_parameters()
    wide_cone = dataclasses.replace(quiet.column, convergence_half_angle_mrad=40.0)
    focus = dataclasses.replace(quiet.drift, focus_wander_um=TwinParameters().drift.focus_wander_um)
    twin = make_twin(seed=4, parameters=dataclasses.replace(quiet, column=wide_cone, drift=focus))
    request = ScanRequest((768, 512), 3.0, 2, 10.0)
    twin.clock.sleep(3600.0)
    twin.column.set_current_na(0.1)
    defocus = abs(twin.column.defocus_um())
    assert defocus > 0.3  # the presets are off by the focus wander

    def sharpness() -> float:
        counts = twin.se_detector.expected_counts(request)
        return float(np.mean(np.abs(np.diff(counts, axis=1))))

    blurred = sharpness()
    twin.column.autofocus()
    assert abs(twin.column.defocus_um()) < 0.1 * defocus
    assert sharpness() > 1.2 * blurred


def test_imaging_sputters_the_face_by_its_dose(twin) -> None:
    p = TwinParameters()
    before = twin.state.sample_face_z_um
    image(twin, 0.8, 3.0, 2, resolution=(512, 256))
    charge_nc = twin.column.measured_current_na() * 512 * 256 * 3e-6 * 2
    area_um2 = 20.0 * 10.0
    depth = twin.state.sample_face_z_um - before
    assert depth == pytest.approx(
        charge_nc / area_um2 * p.materials.nmc_volume_per_dose_um3_per_nc, rel=0.03
    )


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


def test_beam_shift_moves_the_field_over_the_sample(make_twin, kit) -> None:
    pitch_um = 20.0 / SMALL[0]
    plain = make_twin(parameters=kit.quiet_parameters())
    shifted = make_twin(parameters=kit.quiet_parameters())
    shifted.column.set_beam_shift_um((10 * pitch_um, 0.0))
    request = ScanRequest(SMALL, 1.0, 1, 20.0)
    np.testing.assert_allclose(
        shifted.se_detector.expected_counts(request)[:, 4:-14],
        plain.se_detector.expected_counts(request)[:, 14:-4],
        rtol=1e-5,
    )


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def test_default_contrast_and_brightness_reproduce_the_images_before_the_amplifier(
    make_twin, kit
) -> None:
    # digests of the bytes the twin produced before the video amplifier (and the true-face
    # model) existed; a change here means the default images changed (last: the packed phantom
    # with its composition-based, textured binder, issue 11)
    quiet = make_twin(seed=3, parameters=kit.quiet_parameters())
    assert quiet.se_detector.contrast() == 0.5 and quiet.se_detector.brightness() == 0.5
    quiet.column.unblank()
    assert _sha(quiet.se_detector.acquire_image(ScanRequest((96, 64), 3.0, 2, 10.0)).pixels) == (
        "209d646f8cf1a982"
    )
    img, ras, _, _ = kit.run_slice(make_twin(seed=5), 1, autofocus_every=1000)
    # both digests changed with issue 11's physics: the Yamamura-Tawara milling rate and the
    # 16 um cut (the face the scans sputter, the timing), the SIMS model (matrix-effect yields,
    # duty cycle, ADC detection, area sampling, angular sputtering of the raster), the packed
    # phantom (particles, binder, grains, Li field) and the spectrum (the 59Co+ map counts the
    # 58NiH+ and binder C3H4F+ ions in its window; the windows hold the tailed peak's 0.699)
    digests = (_sha(img.pixels), _sha(ras.count_maps))
    assert digests == ("867afd0413edcacf", "5d5696fa4bfb9de7"), digests


def _same_image(make_twin, kit, contrast=None, brightness=None, current_na=0.1):
    twin = make_twin(seed=7, parameters=kit.quiet_parameters())
    if contrast is not None:
        twin.se_detector.set_contrast(contrast)
    if brightness is not None:
        twin.se_detector.set_brightness(brightness)
    return image(twin, current_na, 3.0, 2)[1]


def test_contrast_is_the_gain_and_brightness_the_offset_of_the_counts(make_twin, kit) -> None:
    p = DetectorParameters()
    base = _same_image(make_twin, kit).pixels.astype(np.int64)
    assert 500 < base.mean() < 2000 and base.max() < 10_000
    # same noise draws, so the relations are exact: gain 2^((c - 0.5) x 8), offset (b - 0.5) x max
    doubled = _same_image(make_twin, kit, contrast=0.625).pixels.astype(np.int64)
    np.testing.assert_array_equal(doubled, 2 * base)
    halved = _same_image(make_twin, kit, contrast=0.375).pixels.astype(np.int64)
    np.testing.assert_array_equal(halved, np.rint(base / 2))
    brighter = _same_image(make_twin, kit, brightness=0.6).pixels.astype(np.int64)
    offset = round((0.6 - p.brightness_at_zero_offset) * p.max_counts)
    assert offset == 6553
    np.testing.assert_array_equal(brighter, base + offset)
    both = _same_image(make_twin, kit, contrast=0.625, brightness=0.6).pixels.astype(np.int64)
    np.testing.assert_array_equal(both, 2 * base + offset)


def test_low_brightness_clips_at_zero_and_high_contrast_saturates(make_twin, kit) -> None:
    dark = _same_image(make_twin, kit, brightness=0.0)
    assert dark.pixels.max() == 0 and dark.saturated_fraction == 0.0
    bright = _same_image(make_twin, kit, contrast=1.0, current_na=0.8)  # gain 16 on ~9000
    assert bright.saturated_fraction > 0.5
    assert bright.saturated_fraction == pytest.approx(np.mean(bright.pixels == 65535), abs=1e-3)


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan"), float("inf"), "0.5", True, None])
@pytest.mark.parametrize("setting", ["contrast", "brightness"])
def test_contrast_and_brightness_outside_0_to_1_are_refused(twin, setting, value) -> None:
    with pytest.raises(InstrumentError, match=f"{setting} .*0 to 1|{setting} .*outside 0..1"):
        getattr(twin.se_detector, f"set_{setting}")(value)
    assert getattr(twin.se_detector, setting)() == 0.5
    getattr(twin.se_detector, f"set_{setting}")(1)  # the ends are allowed
    getattr(twin.se_detector, f"set_{setting}")(0.0)
    assert getattr(twin.se_detector, setting)() == 0.0
