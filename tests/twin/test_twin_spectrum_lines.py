"""The catalogue's ions on a raster: areas from the sputtered phases, through the detection law;
interferences counted in the mapped peaks; the sum spectrum of a cathode in epoxy."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from fibsims.instrument import Polarity, RasterRequest, ScanRequest
from fibsims.instrument.isotopes import ELECTRON_MASS_U, ISOTOPES
from fibsims_twin import tof as tof_module
from fibsims_twin.digitiser import recorded_mean
from fibsims_twin.ion_catalogue import isotopologues
from fibsims_twin.ion_yields import duty_cycle
from fibsims_twin.materials import Material
from fibsims_twin.parameters import NoiseParameters, TofParameters, TwinParameters
from fibsims_twin.peak_shape import peak_window_fraction, window_share
from fibsims_twin.spectrum_lines import ExtraIons, RasterSources
from fibsims_twin.tof_counts import DepthStack

P = TofParameters()
SHAPE = (64, 64)
EFFICIENCY = 0.01
DEFAULT_PEAKS = ("6Li+", "7Li+", "55Mn+", "58Ni+", "59Co+")
SCAN_128 = ScanRequest((128, 128), 50.0, 20, 20.0)
WINDOW = peak_window_fraction(P)  # the tailed peak's share in m +- FWHM/2 (0.699)


def _digitiser_law(extractions: int):
    """Whole-peak counts per pixel the digitiser records (tof.py's law): the window's record
    over the window's share."""

    def law(rate):
        recorded = recorded_mean(
            rate, extractions, WINDOW, P.max_ions_per_extraction, NoiseParameters()
        )
        return recorded / np.float32(WINDOW)

    return law


def _linear(rate: np.ndarray) -> np.ndarray:
    return np.asarray(rate, dtype=np.float64)


def _extra(labels, atoms, rates=None, law=_linear, p=P, drawn=frozenset()) -> ExtraIons:
    """ExtraIons over a one-layer raster of ``labels`` sputtering ``atoms`` per pixel."""
    stack = DepthStack(
        faces=[SimpleNamespace(labels=labels, shape=labels.shape)],
        atoms_per_layer=[np.broadcast_to(np.float32(atoms), labels.shape).copy()],
    )
    zero = np.zeros(labels.shape, dtype=np.float32)
    sources = RasterSources(stack, lambda element: (rates or {}).get(element, zero), p)
    return ExtraIons(sources, lambda m: np.full_like(m, EFFICIENCY), law, p, drawn)


def _species_area(extra: ExtraIons, formula: str, source: tuple[str, str] | None = None):
    areas = extra.areas()
    return sum(
        areas[line]
        for line in range(len(extra.lines))
        if extra.lines.species[extra.lines.species_index[line]].formula == formula
        and (source is None or extra.lines.source_of(line) == source)
    )


def _kept(formula: str) -> float:
    return math.fsum(share for _, _, share in isotopologues(formula, P.isotopologue_min_abundance))


def test_pore_only_raster_shows_epoxy_fragments_and_no_oxide_or_binder_ions() -> None:
    atoms = 6.4e7  # epoxy atoms a pixel sputters at the default raster
    extra = _extra(np.full(SHAPE, Material.PORE, np.uint8), atoms)
    pixels = SHAPE[0] * SHAPE[1]
    for formula, per_atom in P.epoxy_fragment_ions_per_atom.items():
        expected = per_atom * EFFICIENCY * atoms * pixels * _kept(formula)
        assert _species_area(extra, formula) == pytest.approx(expected, rel=1e-5), formula
    for formula in ("LiO", "Li2O", "NiO", "MnO", "NiH", "CF", "C2H2F"):
        assert _species_area(extra, formula) == 0.0, formula
    # the epoxy's alkali residues, from the pores only
    assert _species_area(extra, "Na", ("phase", "pore")) > 0
    assert _species_area(extra, "Na", ("phase", "nmc")) == 0.0


def test_nmc_only_raster_shows_oxide_clusters_in_the_ratios_set_by_the_parameters() -> None:
    rng = np.random.default_rng(0)
    li = rng.uniform(0.1, 0.5, SHAPE).astype(np.float32)  # detected Li+ per pixel
    ni = rng.uniform(0.05, 0.1, SHAPE).astype(np.float32)
    extra = _extra(np.full(SHAPE, Material.NMC811, np.uint8), 7.5e7, {"Li": li, "Ni": ni})
    li_total, ni_total = float(li.sum(dtype=np.float64)), float(ni.sum(dtype=np.float64))
    ratios = P.oxide_cluster_ion_ratios
    for formula in ("LiO", "Li2O", "Li2"):
        area = _species_area(extra, formula)
        assert area / li_total == pytest.approx(ratios[formula] * _kept(formula), rel=1e-5)
    assert _species_area(extra, "NiO") / ni_total == pytest.approx(
        ratios["NiO"] * _kept("NiO"), rel=1e-5
    )
    assert _species_area(extra, "NiH") / ni_total == pytest.approx(
        P.metal_hydride_ratio * _kept("NiH"), rel=1e-5
    )
    for formula in ("C7H7", "C2H3", "CF"):
        assert _species_area(extra, formula) == 0.0
    assert _species_area(extra, "Na", ("phase", "nmc")) > 0  # precursor residue


def test_binder_ions_come_from_the_cbd_pixels_in_proportion_to_their_share() -> None:
    labels = np.full(SHAPE, Material.NMC811, np.uint8)
    labels[:, :16] = Material.CBD  # a quarter of the raster
    quarter = _species_area(_extra(labels, 5e7), "C2H2F")
    whole = _species_area(_extra(np.full(SHAPE, Material.CBD, np.uint8), 5e7), "C2H2F")
    assert quarter == pytest.approx(whole / 4, rel=1e-6)


def test_extra_ion_areas_go_through_the_detection_law() -> None:
    extractions = 20
    law = _digitiser_law(extractions)
    # saturating: ~640 7Li+ per extraction in the window, ten times the digitiser's range
    li = np.full(SHAPE, 20000.0, np.float32)
    extra = _extra(np.full(SHAPE, Material.NMC811, np.uint8), 7.5e7, {"Li": li}, law)
    areas = extra.areas()
    pixels = SHAPE[0] * SHAPE[1]
    for line in range(len(extra.lines)):
        if extra.lines.source_of(line) == ("ion", "Li") and extra.rate_per_source[line] > 0:
            rate = np.float32(extra.rate_per_source[line] * 20000.0)
            expected = pixels * float(law(np.array([rate]))[0])
            # lines losing less than the tolerance to the law are taken as linear
            tolerance = P.spectrum_linear_tolerance
            assert areas[line] == pytest.approx(expected, rel=tolerance), extra.lines.label[line]
    assert areas.max() < 0.9 * pixels * 20000.0 * max(P.oxide_cluster_ion_ratios.values())


def test_sub_grid_dead_time_matches_every_pixel_on_a_real_raster(twin) -> None:
    twin.column.set_current_na(4.0)  # strongly saturating
    twin.column.unblank()
    twin.tof.acquire_raster(
        RasterRequest(ScanRequest((128, 128), 50.0, 20, 20.0), "positive", ("7Li+",))
    )
    stack = twin.tof.last_stack
    law = _digitiser_law(100)
    # the atomic ions with a useful yield of the order of 7Li+'s (T x D(7 u))
    useful = np.float32(P.transmission * duty_cycle(7.0, P))
    sources = RasterSources(
        stack, lambda element: stack.emitted_ions(element, Polarity.POSITIVE, P) * useful, P
    )
    extra = ExtraIons(sources, lambda m: np.full_like(m, EFFICIENCY), law, P)
    areas = extra.areas()
    checked = 0
    for line in np.argsort(-areas)[:40]:
        source = sources.full(extra.lines.source_of(line))
        exact = law(source * np.float32(extra.rate_per_source[line])).sum(dtype=np.float64)
        assert areas[line] == pytest.approx(exact, rel=0.01), extra.lines.label[line]
        checked += exact > 0
    assert checked > 20


def test_58nih_in_the_59co_window_is_routed_with_its_share_and_leaves_the_spectrum() -> None:
    ni = np.full(SHAPE, 2.0, np.float32)
    extra = _extra(
        np.full(SHAPE, Material.NMC811, np.uint8),
        7.5e7,
        {"Ni": ni, "Co": ni},
        drawn=frozenset({"Ni", "Co"}),  # the mapped elements' own peaks are drawn by tof.py
    )
    co = ISOTOPES["59Co"].mass_u - ELECTRON_MASS_U
    lines = {label: k for k, label in enumerate(extra.lines.label)}
    nih = lines["58Ni 1H+"]
    half = co / (2 * P.mass_resolving_power)
    share = float(window_share(np.array([extra.lines.mass_u[nih]]), co - half, co + half, P)[0])
    assert share > 0.6  # 0.010 u apart: unresolved at R = 800
    before = dict(extra.peaks())[extra.lines.mass_u[nih]]
    rate = extra.window_rate(co)
    ratio = P.metal_hydride_ratio * ISOTOPES["58Ni"].abundance * ISOTOPES["1H"].abundance
    expected = 2.0 * ratio * EFFICIENCY / EFFICIENCY * share / WINDOW
    assert rate is not None
    np.testing.assert_allclose(rate, expected, rtol=1e-4)
    after = dict(extra.peaks()).get(extra.lines.mass_u[nih], 0.0)
    assert after == pytest.approx(before * max(0.0, 1 - share / WINDOW))


def test_no_catalogue_ion_falls_into_the_lithium_or_manganese_windows() -> None:
    extra = _extra(np.full(SHAPE, Material.PORE, np.uint8), 6.4e7, drawn=frozenset({"Li", "Mn"}))
    for label in ("6Li", "7Li", "55Mn"):
        assert extra.window_rate(ISOTOPES[label].mass_u - ELECTRON_MASS_U) is None, label


def _without(p: TofParameters, **changes) -> TwinParameters:
    return TwinParameters(tof=dataclasses.replace(p, **changes))


NO_EXTRA_IONS = {
    "oxide_cluster_ion_ratios": {},
    "metal_hydride_ratio": 0.0,
    "epoxy_fragment_ions_per_atom": {},
    "binder_fragment_ions_per_atom": {},
    "sodium_atomic_fraction_nmc": 0.0,
    "potassium_atomic_fraction_nmc": 0.0,
    "sodium_atomic_fraction_epoxy": 0.0,
    "potassium_atomic_fraction_epoxy": 0.0,
}


def _raster(twin, peaks=DEFAULT_PEAKS, scan=SCAN_128):
    twin.column.set_current_na(0.8)
    twin.column.unblank()
    return twin.tof.acquire_raster(RasterRequest(scan, Polarity.POSITIVE, peaks))


def test_extra_ions_leave_the_mapped_maps_alone_but_58nih_adds_to_59co(make_twin) -> None:
    with_ions = _raster(make_twin())
    without = _raster(make_twin(parameters=_without(P, **NO_EXTRA_IONS)))
    for k, label in enumerate(DEFAULT_PEAKS[:3]):
        np.testing.assert_array_equal(with_ions.count_maps[k], without.count_maps[k], label)
    # 58Ni+ gains only the epoxy's 13C-C3H5O+ (58.04 u, ~2 % of it in the window): < 0.1 %
    ni_with, ni_without = (float(r.count_maps[3].sum()) for r in (with_ions, without))
    assert ni_with == pytest.approx(ni_without, rel=1e-3)
    hydride_only = dict(NO_EXTRA_IONS, metal_hydride_ratio=P.metal_hydride_ratio)
    hydride = _raster(make_twin(parameters=_without(P, **hydride_only)))
    co_gain = float(hydride.count_maps[4].sum()) - float(without.count_maps[4].sum())
    ni58 = float(without.count_maps[3].sum())
    co = ISOTOPES["59Co"].mass_u - ELECTRON_MASS_U
    nih = ISOTOPES["58Ni"].mass_u + ISOTOPES["1H"].mass_u - ELECTRON_MASS_U
    half = co / (2 * P.mass_resolving_power)
    share = float(window_share(np.array([nih]), co - half, co + half, P)[0])
    # the 58Ni+ map holds w x 58Ni+ x D(58Ni+); the Co map gains share x 58NiH+ x D(58NiH+):
    # the hydride reaches the Co map through the duty cycle of its own mass
    duty = duty_cycle(nih, P) / duty_cycle(ISOTOPES["58Ni"].mass_u - ELECTRON_MASS_U, P)
    hydrogen = ISOTOPES["1H"].abundance
    expected = ni58 * P.metal_hydride_ratio * hydrogen * duty * share / WINDOW
    assert co_gain == pytest.approx(expected, rel=0.05)
    assert co_gain > 0.03 * float(without.count_maps[4].sum())  # a few per cent of Co: real


def _expected_peaks(make_twin, monkeypatch, peaks) -> dict[float, float]:
    """(ion mass -> expected area) of the peaks the raster hands to the sum spectrum."""
    captured = {}

    def capture(rng, table, background, p):
        captured.update({mass: area for mass, area in table})
        return real(rng, table, background, p)

    real = tof_module.sum_spectrum
    monkeypatch.setattr(tof_module, "sum_spectrum", capture)
    _raster(make_twin(seed=4), peaks=peaks)
    monkeypatch.setattr(tof_module, "sum_spectrum", real)
    return captured


def test_an_unmapped_atomic_ion_gets_the_area_it_would_have_if_mapped(
    make_twin, monkeypatch
) -> None:
    # Ni unmapped: its isotopes come from the catalogue (yield with the matrix effect, T, the
    # duty cycle of each isotope's mass, the digitiser); mapped: from tof.py's own count model
    unmapped = _expected_peaks(make_twin, monkeypatch, ("7Li+",))
    mapped = _expected_peaks(make_twin, monkeypatch, ("7Li+", "58Ni+"))
    for isotope in ("58Ni", "60Ni", "62Ni"):
        mass = ISOTOPES[isotope].mass_u - ELECTRON_MASS_U
        area = min(unmapped.items(), key=lambda item: abs(item[0] - mass))
        assert area[0] == pytest.approx(mass, abs=1e-6)
        # 58Ni+ mapped is its map's area (blurred by the spot: the same counts to ~1e-3)
        assert area[1] == pytest.approx(mapped[mass], rel=2e-3 if isotope == "58Ni" else 1e-5)


def _area(spectrum, mass_u: float, half_u: float) -> float:
    lower, upper = (
        P.calibration_p1 * math.sqrt(m) + P.calibration_p2
        for m in (mass_u - half_u, mass_u + half_u)
    )
    window = spectrum.counts[math.ceil(lower) : math.floor(upper) + 1]
    return float(window.sum() - np.median(spectrum.counts) * window.size)


def test_default_raster_spectrum_shows_oxide_epoxy_binder_and_alkali_ions(twin) -> None:
    spectrum = _raster(twin, scan=ScanRequest((256, 256), 50.0, 20, 20.0)).spectrum
    noise = math.sqrt(np.median(spectrum.counts) * 20)
    for name, mass in {
        "7Li16O+": 7.0160034 + 15.9949146,
        "58Ni16O+": 57.9353423 + 15.9949146,
        "55Mn16O+": 54.9380439 + 15.9949146,
        "C2H3+": 24.0 + 3 * 1.00782503,
        "C7H7+": 84.0 + 7 * 1.00782503,
        "CF+": 12.0 + 18.9984032,
        "39K+": 38.9637065,
    }.items():
        assert _area(spectrum, mass - ELECTRON_MASS_U, 0.05) > 10 * noise, name
    # nothing where no ion of the sample lands (m/z 100: between C7H7O+ fragments and Xe2+)
    assert abs(_area(spectrum, 100.0, 0.05)) < 5 * noise


def test_spectrum_of_a_pore_region_differs_from_one_of_nmc(make_twin) -> None:
    # the same raster over two phantom realisations sees different phase shares, and the
    # epoxy-to-oxide peak ratio follows them
    def ratio(seed: int) -> tuple[float, float]:
        twin = make_twin(
            sample={"name": "x", "twin": {"phantom": "nmc811", "seed": seed, "porosity": 0.3}}
        )
        result = _raster(twin, scan=ScanRequest((128, 128), 50.0, 20, 20.0))
        pore = float(np.mean(twin.truth.last_raster_truth()["labels"] == Material.PORE))
        c7h7 = _area(result.spectrum, 84.0 + 7 * 1.00782503 - ELECTRON_MASS_U, 0.06)
        lio = _area(result.spectrum, 7.0160034 + 15.9949146 - ELECTRON_MASS_U, 0.03)
        return pore, c7h7 / lio

    (pore_a, ratio_a), (pore_b, ratio_b) = ratio(811), ratio(812)
    assert abs(pore_a - pore_b) > 0.05
    assert (ratio_a > ratio_b) == (pore_a > pore_b)


def test_spectrum_is_the_same_for_the_same_seed(make_twin) -> None:
    a, b = (_raster(make_twin(seed=9)).spectrum.counts for _ in range(2))
    np.testing.assert_array_equal(a, b)
