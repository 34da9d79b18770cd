"""ToF-SIMS rasters: the count model, isotopes, the digitiser, depth, the Li map, the spectrum."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from fibsims.instrument import InstrumentError, Polarity, RasterRequest, ScanRequest
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.materials import Material, volume_per_dose_by_label
from fibsims_twin.parameters import TofParameters, TwinParameters
from fibsims_twin.peak_shape import peak_window_fraction

E_C = 1.602176634e-19
LI_PEAKS = ("7Li+", "6Li+")
SIMS_SCAN = ScanRequest((128, 128), 50.0, 4, 20.0)
# the share of a peak inside its window m +- FWHM/2: the tailed shape's (0.699), not a bare
# Gaussian's erf(sqrt(ln 2)) = 0.761; the raster reports it as peak_window_fraction
WINDOW = peak_window_fraction(TofParameters())


def raster(twin, peaks=LI_PEAKS, polarity=Polarity.POSITIVE, scan=SIMS_SCAN, current_na=0.8):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    return twin.tof.acquire_raster(RasterRequest(scan, polarity, peaks))


def point_sampled(kit, **noise):
    """Quiet parameters with one sample per pixel (and ``noise`` overrides), so a test can
    compare counts with the truth pixel by pixel."""
    p = kit.quiet_parameters()
    settings = {"raster_subpixel_samples": 1, "raster_depth_samples": 1, **noise}
    return dataclasses.replace(p, noise=dataclasses.replace(p.noise, **settings))


def test_6li_to_7li_count_ratio_at_low_rates_is_natural_times_the_duty_cycle_bias(twin) -> None:
    result = raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0), current_na=0.1)
    n7, n6 = (float(m.sum()) for m in result.count_maps)
    natural = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance
    # the orthogonal extraction catches sqrt(m6 / m7) = 0.926 as much of 6Li+ as of 7Li+
    expected = natural * math.sqrt(ISOTOPES["6Li"].mass_u / ISOTOPES["7Li"].mass_u)
    sigma = (n6 / n7) * math.sqrt(1 / n6 + 1 / n7)
    assert n6 > 5_000  # the default field crosses ~40 % NMC (the packed phantom)
    assert abs(n6 / n7 - expected) < 3 * sigma
    assert abs(n6 / n7 - natural) > 10 * sigma
    li6, li7 = (ISOTOPES[i].mass_u - ELECTRON_MASS_U for i in ("6Li", "7Li"))
    assert result.duty_cycles[1] / result.duty_cycles[0] == pytest.approx(
        math.sqrt(li6 / li7), rel=1e-9
    )


def test_saturation_of_the_digitiser_hits_the_major_isotope_first(make_twin) -> None:
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)  # enough 6Li+ counts for 5 %
    ratios = {}
    for current in (0.1, 4.0):
        n7, n6 = (
            float(m.sum()) for m in raster(make_twin(), scan=scan, current_na=current).count_maps
        )
        ratios[current] = n6 / n7
    assert ratios[4.0] > 1.3 * ratios[0.1]  # 7Li+ fills the ADC's range, 6Li+ hardly


def test_the_adc_records_several_ions_per_extraction_up_to_its_range(make_twin) -> None:
    tof = TofParameters()
    scan = ScanRequest((128, 128), 50.0, 20, 20.0)
    extractions = round(tof.extraction_rate_hz * 50e-6 * 20)
    top = extractions * tof.max_ions_per_extraction
    per_na, flagged, brightest = {}, {}, {}
    for current in (0.1, 0.3, 4.0, 15.0):
        twin = make_twin()
        result = raster(twin, peaks=("7Li+",), scan=scan, current_na=current)
        nmc = twin.truth.last_raster_truth()["labels"] == Material.NMC811
        counts = result.count_maps[0]
        assert counts.max() <= top  # the digitiser's range, K ions per extraction
        per_na[current] = counts[nmc].mean() / current
        flagged[current] = result.saturated_lines.mean()
        brightest[current] = float(counts.max())
    assert result.max_ions_per_extraction == tof.max_ions_per_extraction == 63
    assert brightest[0.3] > 10 * extractions  # many ions of one peak in one extraction
    assert per_na[0.3] == pytest.approx(per_na[0.1], rel=0.02)  # the default: linear
    assert per_na[4.0] < 0.6 * per_na[0.1]
    assert per_na[15.0] < 0.2 * per_na[0.1]  # saturated: counts no longer follow the current
    assert brightest[15.0] == top
    assert flagged[0.1] == 0 and flagged[0.3] == 0
    assert flagged[4.0] > 0.5 and flagged[15.0] > 0.5


def test_7li_map_correlates_with_the_phantom_li_fraction(make_twin) -> None:
    twin = make_twin(sample={"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.3}})
    li7 = raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0)).count_maps[0].astype(float)
    truth = twin.truth.last_raster_truth()
    assert np.corrcoef(li7.ravel(), truth["li_fraction"].ravel())[0, 1] > 0.8
    # inside the particles too: the map follows the Li content, not only the phase map
    nmc = truth["labels"] == Material.NMC811
    assert np.corrcoef(li7[nmc], truth["li_fraction"][nmc])[0, 1] > 0.3


def test_counts_follow_dose_sputter_yield_fraction_ion_yield_lithiation_and_duty_cycle(
    make_twin, kit
) -> None:
    p = TofParameters()
    twin = make_twin(parameters=point_sampled(kit))
    result = raster(twin, current_na=0.03)  # low rate: the digitiser's range is far
    truth = twin.truth.last_raster_truth()
    primaries = 0.03e-9 * 50e-6 / E_C * 4
    sputter = 0.34e-12 * 4 * 2.95e22 * E_C / 1e-9  # Yv * n * e: atoms per ion in NMC811
    mass = ISOTOPES["7Li"].mass_u - ELECTRON_MASS_U
    per_atom = (
        p.ion_yield_positive["Li"]
        * ISOTOPES["7Li"].abundance
        * p.transmission
        * p.duty_cycle_reference
        * math.sqrt(mass / p.duty_cycle_reference_mass_u)
        * WINDOW
    )
    nmc = truth["labels"] == Material.NMC811
    fraction = truth["li_fraction"][nmc].astype(float)
    lithiation = 3 * fraction / (1 - fraction)  # x of Li_x(NMC811), from x / (x + 3)
    expected_linear = primaries * sputter * per_atom * fraction
    # the Li+ yield follows the lithiation: (x / x_ref)^gamma, gamma = 1
    expected = expected_linear * (lithiation / p.li_yield_reference_lithiation)
    counts = result.count_maps[0][nmc].astype(float)
    assert counts.sum() == pytest.approx(expected.sum(), rel=0.03)
    # per Li atom, the counts rise with x: regress counts / fraction on x
    high, low = lithiation > np.quantile(lithiation, 0.8), lithiation < np.quantile(lithiation, 0.2)
    per_atom_high = counts[high].sum() / expected_linear[high].sum()
    per_atom_low = counts[low].sum() / expected_linear[low].sum()
    assert per_atom_high / per_atom_low == pytest.approx(
        lithiation[high].mean() / lithiation[low].mean(), rel=0.05
    )
    assert per_atom_high > 1.2 * per_atom_low


def test_li_counts_scale_with_the_beam_current_at_low_rates(make_twin, kit) -> None:
    scan = ScanRequest((128, 128), 50.0, 20, 20.0)
    low = raster(make_twin(parameters=kit.quiet_parameters()), scan=scan, current_na=0.03)
    high = raster(make_twin(parameters=kit.quiet_parameters()), scan=scan, current_na=0.1)
    assert high.count_maps[0].sum() / low.count_maps[0].sum() == pytest.approx(0.1 / 0.03, rel=0.03)


def test_a_raster_integrates_the_depth_it_sputters(make_twin, kit) -> None:
    p = TwinParameters()
    twin = make_twin(parameters=point_sampled(kit, raster_depth_samples=2))
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)  # the default raster
    face = twin.state.sample_face_z_um
    raster(twin, scan=scan)
    charge_nc = 0.8 * 256 * 256 * 50e-6 * 20
    nmc_depth = charge_nc / (20.0 * 20.0) * p.materials.nmc_volume_per_dose_um3_per_nc
    assert nmc_depth > 0.025  # tens of nm: deeper than a slice
    stack = twin.tof.last_stack
    depths = [f.z_um - face for f in stack.faces]
    np.testing.assert_allclose(depths, [nmc_depth / 4, 3 * nmc_depth / 4], rtol=1e-9)
    truth = twin.truth.last_raster_truth()
    mean = sum(f.li_fraction for f in stack.faces) / len(stack.faces)
    np.testing.assert_allclose(truth["li_fraction"], mean, rtol=1e-6)
    assert not np.array_equal(stack.faces[0].labels, stack.faces[1].labels)  # depth matters
    following = twin.tof.acquire_raster(RasterRequest(scan, Polarity.POSITIVE, LI_PEAKS))
    assert twin.tof.last_stack.faces[0].z_um > face + nmc_depth  # the next one starts deeper
    assert following.count_maps.shape == (2, 256, 256)


def test_each_phase_sputters_its_own_depth_and_the_face_follows_the_least_receded(
    make_twin, kit
) -> None:
    p = TwinParameters()
    twin = make_twin(parameters=point_sampled(kit))
    face = twin.state.sample_face_z_um
    raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0))
    dose_per_area = 0.8 * 256 * 256 * 50e-6 * 20 / (20.0 * 20.0)  # nC / um^2
    per_phase = volume_per_dose_by_label(p.materials) * dose_per_area
    labels = twin.tof.last_stack.faces[0].labels
    depth = twin.tof.last_stack.sputtered_depth_um(per_phase)
    for phase in (Material.NMC811, Material.PORE, Material.CBD):
        assert depth[labels == phase] == pytest.approx(per_phase[phase], rel=1e-6)
    # epoxy mills twice as fast as NMC; the one-plane face follows NMC, the least receded
    assert per_phase[Material.PORE] == pytest.approx(2 * per_phase[Material.NMC811])
    assert twin.state.sample_face_z_um - face == pytest.approx(per_phase[Material.NMC811], rel=1e-9)


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


def _peak_area(
    spectrum, mass_u: float, p: TofParameters, half_u: float = 0.05, background: float = 0.0
) -> float:
    """Counts within mass_u +- half_u, less ``background`` per sample."""
    lower, upper = (
        p.calibration_p1 * math.sqrt(m) + p.calibration_p2
        for m in (mass_u - half_u, mass_u + half_u)
    )
    window = spectrum.counts[math.ceil(lower) : math.floor(upper) + 1]
    return float(window.sum() - background * window.size)


def test_spectrum_puts_each_peak_at_the_tofdaq_calibration(twin) -> None:
    p = TofParameters()
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)  # the default raster
    # 4 nA: enough Xe2+ over the flat background (which grows with time, not current) to
    # measure its ratio within a few per cent
    spectrum = raster(twin, peaks=("7Li+",), scan=scan, current_na=4.0).spectrum
    assert spectrum.counts.dtype == np.float64 and spectrum.mass_axis_u.dtype == np.float32
    assert spectrum.mass_axis_u[-1] >= 150.0  # covers Xe
    assert (spectrum.calibration_p1, spectrum.calibration_p2) == (812.2415, 222.0153)
    assert spectrum.sample_interval_s == pytest.approx(0.8333e-9)
    # 129Xe2+ (64.45 u, 26 % of Xe), since 132Xe2+ (65.95 u) sits 0.09 u from the epoxy's
    # 13C-C5H5+ (66.04 u), which at the duty cycle of 66 u outshines it
    xe2 = (ISOTOPES["129Xe"].mass_u - 2 * ELECTRON_MASS_U) / 2
    for mass in (
        *(ISOTOPES[i].mass_u - ELECTRON_MASS_U for i in ("7Li", "6Li", "132Xe")),
        xe2,  # doubly charged Xe flies at m / 2
    ):
        index = p.calibration_p1 * math.sqrt(mass) + p.calibration_p2
        # the highest sample within a few peak widths (the neighbours' tails stay outside)
        window = slice(round(index) - 6, round(index) + 7)
        peak = round(index) - 6 + int(np.argmax(spectrum.counts[window]))
        assert abs(peak - index) <= 2.0  # within the peak's width (a few samples)
        per_sample_u = 2 * math.sqrt(mass) / p.calibration_p1  # dm / di of the calibration
        assert spectrum.mass_axis_u[peak] == pytest.approx(mass, abs=2.01 * per_sample_u)
        # stands out of its surroundings (flat background and neighbours' tails, +-0.3 u) by
        # many times their Poisson noise
        floor = np.median(spectrum.counts[round(index) - 15 : round(index) + 16])
        assert spectrum.counts[window].max() > floor + 8 * math.sqrt(floor)
    background = float(np.median(spectrum.counts))

    # areas above the background, wide enough for the peaks' high-mass tails, of isotopes whose
    # neighbourhood the sample's ions leave clear (136Xe2+ at 67.95 u; 129Xe+ at 128.9 u), per
    # ion of Xe
    def below(mass_u: float) -> float:  # the local floor, 0.3-0.6 u below the peak
        lo, hi = (p.calibration_p1 * math.sqrt(mass_u - d) + p.calibration_p2 for d in (0.6, 0.3))
        return float(np.median(spectrum.counts[round(lo) : round(hi)]))

    xe2_area, xe_area = (
        _peak_area(spectrum, m, p, half, below(m)) / ISOTOPES[iso].abundance
        for iso, m, half in (
            ("136Xe", (ISOTOPES["136Xe"].mass_u - 2 * ELECTRON_MASS_U) / 2, 0.25),
            ("129Xe", ISOTOPES["129Xe"].mass_u - ELECTRON_MASS_U, 0.45),
        )
    )
    # Xe2+ flies at m / 2, where the extraction catches sqrt(1/2) as much
    ratio = xe2_area / xe_area
    assert ratio == pytest.approx(p.xe_doubly_charged_ratio * math.sqrt(0.5 * 136 / 129), rel=0.1)
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
