"""ToF-SIMS rasters: the count model, isotopes, dead time, depth, the Li map, the spectrum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fibsims.instrument import InstrumentError, Polarity, RasterRequest, ScanRequest
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters, TwinParameters

E_C = 1.602176634e-19
LI_PEAKS = ("7Li+", "6Li+")
SIMS_SCAN = ScanRequest((128, 128), 50.0, 4, 20.0)
WINDOW = math.erf(math.sqrt(math.log(2)))


def raster(twin, peaks=LI_PEAKS, polarity=Polarity.POSITIVE, scan=SIMS_SCAN, current_na=0.8):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    return twin.tof.acquire_raster(RasterRequest(scan, polarity, peaks))


def test_6li_to_7li_count_ratio_is_the_natural_abundance_ratio_at_low_rates(twin) -> None:
    result = raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0), current_na=0.1)
    n7, n6 = (float(m.sum()) for m in result.count_maps)
    expected = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance
    sigma = (n6 / n7) * math.sqrt(1 / n6 + 1 / n7)
    assert n6 > 10_000
    assert abs(n6 / n7 - expected) < 3 * sigma


def test_dead_time_saturates_the_major_isotope_first(make_twin) -> None:
    scan = ScanRequest((128, 128), 50.0, 20, 20.0)
    ratios = {}
    for current in (0.1, 4.0):
        n7, n6 = (
            float(m.sum()) for m in raster(make_twin(), scan=scan, current_na=current).count_maps
        )
        ratios[current] = n6 / n7
    natural = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance
    assert ratios[0.1] == pytest.approx(natural, rel=0.05)
    assert ratios[4.0] > 1.3 * natural  # 7Li+ loses counts to the dead time, 6Li+ hardly


def test_dead_time_caps_counts_per_pixel_and_flags_lines_at_high_current(make_twin) -> None:
    tof = TofParameters()
    scan = ScanRequest((128, 128), 50.0, 20, 20.0)
    extractions = round(tof.extraction_rate_hz * 50e-6 * 20)
    per_na, flagged = {}, {}
    for current in (0.1, 0.8, 4.0, 15.0):
        twin = make_twin()
        result = raster(twin, peaks=("7Li+",), scan=scan, current_na=current)
        nmc = twin.truth.last_raster_truth()["labels"] == Material.NMC811
        counts = result.count_maps[0]
        assert counts.max() <= extractions  # at most one ion of a peak per extraction
        per_na[current] = counts[nmc].mean() / current
        flagged[current] = result.saturated_lines.mean()
    assert per_na[0.8] == pytest.approx(per_na[0.1], rel=0.15)  # the default: nearly linear
    assert per_na[4.0] < 0.75 * per_na[0.1]
    assert per_na[15.0] < 0.3 * per_na[0.1]  # saturated: counts no longer follow the current
    assert flagged[0.1] == 0 and flagged[0.8] == 0
    assert flagged[4.0] > 0.5 and flagged[15.0] > 0.5


def test_7li_map_correlates_with_the_phantom_li_fraction(make_twin) -> None:
    twin = make_twin(sample={"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.3}})
    li7 = raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0)).count_maps[0].astype(float)
    truth = twin.truth.last_raster_truth()
    assert np.corrcoef(li7.ravel(), truth["li_fraction"].ravel())[0, 1] > 0.8
    # inside the particles too: the map follows the Li content, not only the phase map
    nmc = truth["labels"] == Material.NMC811
    assert np.corrcoef(li7[nmc], truth["li_fraction"][nmc])[0, 1] > 0.3


def test_counts_follow_dose_sputter_yield_fraction_useful_yield_and_transmission(
    make_twin, kit
) -> None:
    p = TofParameters()
    twin = make_twin(parameters=kit.quiet_parameters())
    result = raster(twin, current_na=0.03)  # low rate: the dead time is negligible
    truth = twin.truth.last_raster_truth()
    primaries = 0.03e-9 * 50e-6 / E_C * 4
    sputter = 0.4e-12 * 4 * 2.95e22 * E_C / 1e-9  # Yv * n * e: atoms per ion in NMC811
    per_atom = (
        p.useful_yield_positive["Li"]
        * ISOTOPES["7Li"].abundance
        * p.transmission
        * p.extraction_duty_cycle
        * WINDOW
    )
    nmc = truth["labels"] == Material.NMC811
    expected = primaries * sputter * truth["li_fraction"][nmc].sum() * per_atom
    assert result.count_maps[0].sum() == pytest.approx(expected, rel=0.03)


def test_li_counts_scale_with_the_beam_current_at_low_rates(make_twin, kit) -> None:
    scan = ScanRequest((128, 128), 50.0, 20, 20.0)
    low = raster(make_twin(parameters=kit.quiet_parameters()), scan=scan, current_na=0.03)
    high = raster(make_twin(parameters=kit.quiet_parameters()), scan=scan, current_na=0.1)
    assert high.count_maps[0].sum() / low.count_maps[0].sum() == pytest.approx(0.1 / 0.03, rel=0.03)


def test_a_raster_integrates_the_depth_it_sputters(twin) -> None:
    p = TwinParameters()
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)  # the default raster
    face = twin.state.sample_face_z_um
    raster(twin, scan=scan)
    depth = twin.state.sample_face_z_um - face
    charge_nc = 0.8 * 256 * 256 * 50e-6 * 20
    expected_depth = charge_nc / (20.0 * 20.0) * p.materials.nmc_volume_per_dose_um3_per_nc
    assert depth == pytest.approx(expected_depth, rel=0.03)  # tens of nm: deeper than a slice
    assert depth > 0.025
    stack = twin.tof.last_stack
    depths = [f.z_um - face for f in stack.faces]
    np.testing.assert_allclose(depths, [depth / 4, 3 * depth / 4], rtol=1e-9)
    truth = twin.truth.last_raster_truth()
    mean = sum(f.li_fraction for f in stack.faces) / len(stack.faces)
    np.testing.assert_allclose(truth["li_fraction"], mean, rtol=1e-6)
    assert not np.array_equal(stack.faces[0].labels, stack.faces[1].labels)  # depth matters
    following = twin.tof.acquire_raster(RasterRequest(scan, Polarity.POSITIVE, LI_PEAKS))
    assert twin.tof.last_stack.faces[0].z_um > face + depth  # the next raster starts deeper
    assert following.count_maps.shape == (2, 256, 256)


def test_fluorine_comes_from_the_binder_and_oxygen_from_oxide_and_epoxy(twin) -> None:
    result = raster(twin, peaks=("19F-", "16O-"), polarity=Polarity.NEGATIVE)
    labels = twin.truth.last_raster_truth()["labels"]
    fluorine, oxygen = (m.astype(float) for m in result.count_maps)
    cbd = labels == Material.CBD
    assert cbd.sum() > 50
    assert fluorine[cbd].mean() > 20 * fluorine[labels == Material.NMC811].mean()
    assert oxygen[labels == Material.NMC811].mean() > oxygen[cbd].mean()


def test_peak_windows_follow_the_mass_resolving_power(twin) -> None:
    resolving_power = TofParameters().mass_resolving_power
    peaks = raster(twin, peaks=("7Li+", "58Ni+")).peaks
    for peak, isotope in zip(peaks, ("7Li", "58Ni"), strict=True):
        mass = ISOTOPES[isotope].mass_u - ELECTRON_MASS_U
        assert peak.mass_u == pytest.approx(mass)
        assert peak.upper_u - peak.lower_u == pytest.approx(mass / resolving_power)
        assert (peak.lower_u + peak.upper_u) / 2 == pytest.approx(mass)


def test_maps_shape_dtype_and_duration(twin) -> None:
    p = TofParameters()
    start = twin.clock.now_s()
    result = raster(twin, peaks=("7Li+", "6Li+", "58Ni+", "55Mn+", "59Co+"))
    assert result.count_maps.shape == (5, 128, 128) and result.count_maps.dtype == np.uint32
    expected = 4 * (128 * 128 * 50e-6 + 128 * p.line_flyback_s)
    assert result.duration_s == pytest.approx(expected)
    assert twin.clock.now_s() - start == pytest.approx(expected + 10.0)  # + one current switch
    assert result.saturated_lines.shape == (128,) and result.saturated_lines.dtype == np.uint8


def _peak_area(spectrum, mass_u: float, p: TofParameters, half_u: float = 0.05) -> float:
    lower, upper = (
        p.calibration_p1 * math.sqrt(m) + p.calibration_p2
        for m in (mass_u - half_u, mass_u + half_u)
    )
    return float(spectrum.counts[math.ceil(lower) : math.floor(upper) + 1].sum())


def _samples_in(mass_u: float, half_u: float, p: TofParameters) -> int:
    lower, upper = (
        p.calibration_p1 * math.sqrt(m) + p.calibration_p2
        for m in (mass_u - half_u, mass_u + half_u)
    )
    return math.floor(upper) - math.ceil(lower) + 1


def test_spectrum_puts_each_peak_at_the_tofdaq_calibration(twin) -> None:
    p = TofParameters()
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)  # the default raster
    spectrum = raster(twin, peaks=("7Li+",), scan=scan).spectrum
    assert spectrum.counts.dtype == np.float64 and spectrum.mass_axis_u.dtype == np.float32
    assert spectrum.mass_axis_u[-1] >= 150.0  # covers Xe
    assert (spectrum.calibration_p1, spectrum.calibration_p2) == (812.2415, 222.0153)
    assert spectrum.sample_interval_s == pytest.approx(0.8333e-9)
    xe2 = (ISOTOPES["132Xe"].mass_u - 2 * ELECTRON_MASS_U) / 2
    for mass in (
        *(ISOTOPES[i].mass_u - ELECTRON_MASS_U for i in ("7Li", "6Li", "132Xe")),
        xe2,  # doubly charged Xe flies at m / 2
    ):
        index = p.calibration_p1 * math.sqrt(mass) + p.calibration_p2
        window = slice(round(index) - 15, round(index) + 16)
        peak = round(index) - 15 + int(np.argmax(spectrum.counts[window]))
        assert abs(peak - index) <= 2.0  # within the peak's width (a few samples)
        per_sample_u = 2 * math.sqrt(mass) / p.calibration_p1  # dm / di of the calibration
        assert spectrum.mass_axis_u[peak] == pytest.approx(mass, abs=2.01 * per_sample_u)
        assert spectrum.counts[window].max() > 3 * np.median(spectrum.counts)
    background = np.median(spectrum.counts)
    # areas above the background, wide enough for the peaks' high-mass tails; 134Xe, since
    # 132Xe2+ (65.95 u) sits 0.09 u from the epoxy's 13C-C5H5+ (66.04 u)
    xe2_134 = (ISOTOPES["134Xe"].mass_u - 2 * ELECTRON_MASS_U) / 2
    xe2_area, xe_area = (
        _peak_area(spectrum, m, p, half) - background * _samples_in(m, half, p)
        for m, half in ((xe2_134, 0.25), (ISOTOPES["134Xe"].mass_u, 0.45))
    )
    assert xe2_area / xe_area == pytest.approx(p.xe_doubly_charged_ratio, rel=0.1)
    duration_s = 20 * (256 * 256 * 50e-6 + 256 * p.line_flyback_s)
    assert background == pytest.approx(p.background_counts_per_sample_per_s * duration_s, rel=0.1)


def test_spectrum_li_area_matches_the_maps(twin) -> None:
    p = TofParameters()
    result = raster(twin)
    area = _peak_area(result.spectrum, ISOTOPES["7Li"].mass_u, p)
    assert area == pytest.approx(result.count_maps[0].sum() / WINDOW, rel=0.02)


@pytest.mark.parametrize(
    ("peaks", "message"),
    [
        (("8Li+",), "isotope 8Li is not in the table"),
        (("Li7+",), "not of the form"),
        (("7Li-",), "wrong charge"),
        ((), "at least one peak"),
    ],
)
def test_bad_peaks_are_refused(twin, peaks, message) -> None:
    with pytest.raises(InstrumentError, match=message):
        raster(twin, peaks=peaks)


def test_blanked_beam_refuses_to_raster(twin) -> None:
    with pytest.raises(InstrumentError, match="blanked"):
        twin.tof.acquire_raster(RasterRequest(SIMS_SCAN, Polarity.POSITIVE, LI_PEAKS))
