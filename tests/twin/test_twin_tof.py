"""ToF-SIMS rasters: the count model, isotopes, the Li map against the truth, the spectrum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fibsims.instrument import InstrumentError, Polarity, RasterRequest, ScanRequest
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TofParameters
from fibsims_twin.scan import pixel_axes

E_C = 1.602176634e-19
LI_PEAKS = ("7Li+", "6Li+")
SIMS_SCAN = ScanRequest((128, 128), 50.0, 4, 20.0)


def raster(twin, peaks=LI_PEAKS, polarity=Polarity.POSITIVE, scan=SIMS_SCAN, current_na=0.8):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    return twin.tof.acquire_raster(RasterRequest(scan, polarity, peaks))


def truth(twin, scan=SIMS_SCAN):
    x, y = pixel_axes(scan, twin.state.field_centre_um())
    return twin.phantom.face(twin.state.face_z_um, x, y)


def test_6li_to_7li_count_ratio_is_the_natural_abundance_ratio(twin) -> None:
    result = raster(twin)
    n7, n6 = (float(m.sum()) for m in result.count_maps)
    expected = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance
    sigma = (n6 / n7) * math.sqrt(1 / n6 + 1 / n7)
    assert abs(n6 / n7 - expected) < 3 * sigma


def test_7li_map_correlates_with_the_phantom_li_fraction(make_twin) -> None:
    twin = make_twin(sample={"twin": {"phantom": "nmc811", "seed": 1, "porosity": 0.3}})
    scan = ScanRequest((256, 256), 50.0, 20, 20.0)
    li7 = raster(twin, scan=scan).count_maps[0].astype(float)
    face = truth(twin, scan)
    assert np.corrcoef(li7.ravel(), face.li_fraction.ravel())[0, 1] > 0.5
    # inside the particles too: the map follows the Li content, not only the phase map
    nmc = face.labels == Material.NMC811
    assert np.corrcoef(li7[nmc], face.li_fraction[nmc])[0, 1] > 0.5


def test_counts_follow_primaries_sputter_yield_fraction_useful_yield(twin) -> None:
    p = TofParameters()
    result = raster(twin)
    face = truth(twin)
    primaries = 0.8e-9 * 50e-6 / E_C * 4
    sputter = 0.4e-12 * 4 * 2.95e22 * E_C / 1e-9  # Yv * n * e: atoms per ion in NMC811
    window = math.erf(math.sqrt(math.log(2)))
    per_atom = p.useful_yield_positive["Li"] * ISOTOPES["7Li"].abundance * p.transmission * window
    nmc = face.labels == Material.NMC811
    expected = primaries * sputter * face.li_fraction[nmc].sum() * per_atom
    assert result.count_maps[0][nmc].sum() == pytest.approx(expected, rel=0.01)
    assert result.count_maps[0][~nmc].sum() < 1e-3 * expected  # only blur leaks Li out


def test_li_counts_scale_with_the_beam_current(make_twin) -> None:
    low = raster(make_twin(), current_na=0.3).count_maps[0].sum()
    high = raster(make_twin(), current_na=0.8).count_maps[0].sum()
    assert high / low == pytest.approx(0.8 / 0.3, rel=0.01)


def test_fluorine_comes_from_the_binder_and_oxygen_from_oxide_and_epoxy(twin) -> None:
    result = raster(twin, peaks=("19F-", "16O-"), polarity=Polarity.NEGATIVE)
    face = truth(twin)
    fluorine, oxygen = (m.astype(float) for m in result.count_maps)
    cbd = face.labels == Material.CBD
    assert cbd.sum() > 50
    assert fluorine[cbd].mean() > 20 * fluorine[face.labels == Material.NMC811].mean()
    assert oxygen[face.labels == Material.NMC811].mean() > oxygen[cbd].mean()


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


def test_spectrum_puts_each_peak_at_the_tofdaq_calibration(twin) -> None:
    p = TofParameters()
    spectrum = raster(twin, peaks=("7Li+",)).spectrum
    assert spectrum.counts.dtype == np.float64 and spectrum.mass_axis_u.dtype == np.float32
    assert spectrum.mass_axis_u[-1] >= 150.0  # covers Xe
    assert (spectrum.calibration_p1, spectrum.calibration_p2) == (812.2415, 222.0153)
    assert spectrum.sample_interval_s == pytest.approx(0.8333e-9)
    for isotope in ("7Li", "6Li", "132Xe"):  # all isotopes of mapped elements, and Xe+
        mass = ISOTOPES[isotope].mass_u - ELECTRON_MASS_U
        index = p.calibration_p1 * math.sqrt(mass) + p.calibration_p2
        window = slice(round(index) - 15, round(index) + 16)
        peak = round(index) - 15 + int(np.argmax(spectrum.counts[window]))
        assert abs(peak - index) <= 1.0
        assert spectrum.mass_axis_u[peak] == pytest.approx(mass, abs=0.02)
        assert spectrum.counts[window].max() > 10 * np.median(spectrum.counts)
    # 7Li+ at ~2 us flight time (physics.md)
    assert (
        1.5e-6
        < (p.calibration_p1 * math.sqrt(7.016) + p.calibration_p2) * p.sample_interval_s
        < 2.5e-6
    )


def test_spectrum_li_area_matches_the_maps(twin) -> None:
    p = TofParameters()
    result = raster(twin)
    spectrum = result.spectrum
    mass = ISOTOPES["7Li"].mass_u
    lower, upper = (
        p.calibration_p1 * math.sqrt(m) + p.calibration_p2 for m in (mass - 0.05, mass + 0.05)
    )
    area = spectrum.counts[math.ceil(lower) : math.floor(upper) + 1].sum()
    window = math.erf(math.sqrt(math.log(2)))
    assert area == pytest.approx(result.count_maps[0].sum() / window, rel=0.02)


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
