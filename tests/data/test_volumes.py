"""Reconstruction into volumes.h5: registration, dead time, z grids, Li fraction, and a quick
run on the twin reconstructed end to end (shapes, physical voxel sizes, the 6Li/7Li ratio)."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import ndimage

from fibsims.data.composition import li_fraction
from fibsims.data.dead_time import (
    clipped_mean,
    correct_duty_cycle,
    correct_saturation,
    expected_counts,
    extractions_per_pixel,
)
from fibsims.data.reconstruction import reconstruct
from fibsims.data.registration import (
    Grid,
    bin_image,
    refine_shift,
    register_slice,
    sims_to_se,
)
from fibsims.data.run_reader import RunData
from fibsims.data.volumes import VolumeError, VolumeFile
from fibsims.data.zgrid import even_z, interpolate
from fibsims.instrument.isotopes import ISOTOPES
from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
NATURAL_6LI_7LI = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance  # 0.0821

# Two fields of different shapes on one beam centre (registration must not assume they
# match): SE 192 x 128 px of 104.17 nm (20 x 13.3 um), SIMS 64 x 64 px of 312.5 nm (20 x 20 um).
SE = Grid(20.0 / 192, 192, 128, 0.0, 0.0)
SIMS = Grid(20.0 / 64, 64, 64, 0.0, 0.0)


def quick_run(folder: Path, slices: int = 4) -> Path:
    """A quick-recipe run with ``slices`` slices, made by the real service on the twin."""
    recipe = folder / "quick.yaml"
    text = QUICK.read_text()
    assert "slices: 6}" in text
    recipe.write_text(text.replace("slices: 6}", f"slices: {slices}}}"))
    out = folder / "run"
    report = start_run(
        RunRequest(recipe_path=recipe, out=out, seed=1, progress=False, tell=lambda t: None)
    )
    assert report.ok
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return quick_run(tmp_path_factory.mktemp("volumes"))


@pytest.fixture(scope="module")
def volumes(run) -> Path:
    out = run / "volumes.h5"
    reconstruct(run / "run.h5", out)
    return out


# -- registration: the geometric mapping ---------------------------------------------------


def test_a_sims_pixel_maps_onto_the_se_pixels_under_it():
    mapping = sims_to_se(SIMS, SE)
    assert mapping.scale == pytest.approx(3.0)
    # SIMS column 0 covers x in [-10, -9.6875) um: SE columns 0..2, centre column 1
    row, col = mapping(32, 0)
    assert col == pytest.approx(1.0)
    # SIMS row 32 covers y in [0, 0.3125) um: SE rows 64..66 (the SE image starts at -6.67 um)
    assert row == pytest.approx(65.0)
    # the SIMS field is taller than the image: its first row lies above it
    assert mapping(0, 0)[0] == pytest.approx(-31.0)


def test_the_mapping_follows_the_field_centres():
    moved = Grid(SIMS.pixel_size_um, 64, 64, 0.5, -0.25)  # the raster's centre 0.5 um right
    row, col = sims_to_se(moved, SE)(32, 0)
    assert col == pytest.approx(1.0 + 0.5 / SE.pixel_size_um)
    assert row == pytest.approx(65.0 - 0.25 / SE.pixel_size_um)


def test_a_synthetic_feature_is_found_where_the_mapping_says():
    """A bright square on the SE image, binned onto the SIMS grid, lands on the SIMS pixels the
    mapping sends to it; area weights give exact partial-coverage means."""
    image = np.full((SE.height_px, SE.width_px), 100.0)
    image[61:73, 90:102] = 1000.0  # 12 x 12 SE px = SIMS rows 31..34, columns 30..33
    binned = bin_image(image, SE, SIMS)
    inside = np.argwhere(binned > 999.0)
    assert inside.shape[0] == 16
    mapping = sims_to_se(SIMS, SE)
    for r, c in inside:
        se_row, se_col = mapping(r, c)
        assert 61 <= se_row < 73 and 90 <= se_col < 102
    # SIMS rows beyond the image are NaN; a pixel at least half covered keeps the mean of
    # its covered part, one less covered is NaN
    assert np.isnan(binned[0]).all() and np.isfinite(binned[32]).all()
    half = bin_image(np.ones_like(image), SE, SIMS.shifted(0.0, 0.5))
    assert np.isfinite(half[32]).all() and half[32, -1] == pytest.approx(1.0)
    less = bin_image(np.ones_like(image), SE, SIMS.shifted(0.0, 0.6))
    assert np.isfinite(less[32, :-1]).all() and np.isnan(less[32, -1])


def _phantom(seed: int = 3) -> np.ndarray:
    """Three phases as the twin's SE shows them: pores dark, NMC mid, binder brightest."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.random((SE.height_px, SE.width_px)), 4)
    phases = np.digitize(field, np.quantile(field, [0.3, 0.85]))  # 0 pore, 1 NMC, 2 binder
    return phases


@pytest.mark.parametrize("shift", [(0.0, 0.0), (1.4, -0.6), (-2.2, 2.5)])
def test_the_correlation_recovers_a_known_offset_despite_an_inverted_contrast(shift):
    """SE levels: pore 450, NMC 1120, binder 1800; ions: NMC only. The raw SE would correlate
    at the wrong shift (the binder is bright but sends no ions); the level table does not."""
    rng = np.random.default_rng(7)
    phases = _phantom()
    se_image = np.choose(phases, [450.0, 1120.0, 1800.0]) + rng.normal(0, 30, phases.shape)
    truth = SIMS.shifted(*shift)  # where the raster really lay
    rate = bin_image((phases == 1).astype(float) * 6.0, SE, truth)
    ions = rng.poisson(np.nan_to_num(rate, nan=3.0)).astype(float)
    found = register_slice(se_image, SE, ions, SIMS, max_shift_px=3.0)
    assert found.applied, found
    assert found.row_px == pytest.approx(shift[0], abs=0.25)
    assert found.col_px == pytest.approx(shift[1], abs=0.25)


def test_a_refinement_beyond_the_limit_is_recorded_but_not_applied():
    rng = np.random.default_rng(1)
    phases = _phantom()
    se_image = np.choose(phases, [450.0, 1120.0, 1800.0])
    ions = rng.poisson(
        np.nan_to_num(bin_image((phases == 1) * 6.0, SE, SIMS.shifted(2.5, 0)), nan=3.0)
    )
    found = register_slice(se_image, SE, ions.astype(float), SIMS, max_shift_px=1.0)
    assert not found.applied and (found.row_px, found.col_px) == (0.0, 0.0)
    assert found.reason == "peak on the edge of the search window"


def test_noise_alone_is_not_a_registration():
    rng = np.random.default_rng(2)
    reference = np.full((64, 64), np.nan)
    reference[11:53] = rng.random((42, 64))
    found = refine_shift(reference, rng.random((64, 64)), 3.0, min_correlation=0.2)
    assert not found.applied


# -- dead time --------------------------------------------------------------------------------


def test_extractions_per_pixel_from_dwell_frames_and_rate():
    assert extractions_per_pixel(50.0, 4, 100_000.0) == 20  # the quick recipe's raster
    assert extractions_per_pixel(50.0, 20, 100_000.0) == 100  # the default recipe's
    assert extractions_per_pixel(0.1, 1, 100_000.0) == 1  # at least one


@pytest.mark.parametrize("max_ions", [1, 4, 63])
def test_saturation_correction_inverts_the_clipped_poisson_law(max_ions):
    """k = n m1(N / n) -> N: the counts the window would have recorded without saturation."""
    n = 100
    true_ions = np.array([0.0, 0.5, 5.0, 25.0, 80.0, 100.0]) * max_ions  # up to K per extraction
    k = expected_counts(true_ions, n, max_ions)
    corrected, capped = correct_saturation(k, n, max_ions)
    assert capped == 0
    np.testing.assert_allclose(corrected, true_ions, rtol=1e-4, atol=1e-6)


def test_a_counting_tdc_is_the_digitiser_with_a_range_of_one_ion():
    """K = 1: m1 = 1 - exp(-lambda), the textbook dead-time law and its inverse."""
    lam = np.array([0.0, 0.01, 0.3, 2.0])
    np.testing.assert_allclose(clipped_mean(lam, 1), -np.expm1(-lam), rtol=1e-12)
    n, k = 20, np.array([0, 1, 5, 14, 19])
    corrected, _ = correct_saturation(k, n, 1)
    np.testing.assert_allclose(corrected, -n * np.log(1 - k / n), rtol=1e-4)


def test_low_counts_are_left_alone_and_saturated_pixels_are_capped_and_counted():
    corrected, capped = correct_saturation(np.array([1.0, 20.0, 20.0]), 1000, 63)
    assert corrected[0] == pytest.approx(1.0, rel=1e-6)
    assert capped == 0
    corrected, capped = correct_saturation(np.array([3.0, 80.0, 80.0]), 20, 4)
    assert capped == 2 and np.isfinite(corrected).all()
    assert corrected[1] > 80.0 * 2  # k capped at n K - 1/2, far up the clipped law
    assert corrected[1] == pytest.approx(corrected[2])


def test_saturation_correction_of_simulated_clipped_counts_is_unbiased():
    """Sums of n clipped Poisson draws, the digitiser's law drawn per extraction."""
    rng = np.random.default_rng(0)
    n, max_ions, lam = 100, 63, 65.0
    k = np.minimum(rng.poisson(lam, size=(20_000, n)), max_ions).sum(axis=1)
    corrected, capped = correct_saturation(k, n, max_ions)
    assert capped == 0
    assert corrected.mean() == pytest.approx(n * lam, rel=0.003)
    assert k.mean() < 0.97 * n * lam  # what the correction undoes


def test_the_duty_cycle_correction_divides_by_the_share_caught():
    np.testing.assert_allclose(correct_duty_cycle(np.array([5.0, 10.0]), 0.05), [100.0, 200.0])
    with pytest.raises(ValueError, match="duty cycle"):
        correct_duty_cycle(np.array([1.0]), 0.0)


# -- z grids -----------------------------------------------------------------------------------


def test_uneven_faces_are_resampled_linearly_onto_even_planes():
    z = np.array([0.0, 0.02, 0.05, 0.075])
    grid = even_z(z, np.zeros(4, bool), 0.025)
    assert grid.dz_um == pytest.approx(0.025) and grid.count == 4
    np.testing.assert_allclose(grid.z_um, [0.0, 0.025, 0.05, 0.075])
    planes = {i: np.full((2, 2), 10.0 * i, np.float32) for i in range(4)}  # value 10 i at z_i
    values = [float(interpolate(s, planes, (2, 2))[0, 0]) for s in grid.sources]
    # plane 1 at 0.025 lies 1/6 of the way from z = 0.02 (10) to z = 0.05 (20)
    np.testing.assert_allclose(values, [0.0, 10.0 + 10.0 / 6.0, 20.0, 30.0], rtol=1e-6)


def test_a_missing_slice_blanks_the_even_planes_that_borrow_from_it():
    z = np.array([0.0, 0.02, 0.05, 0.075])
    grid = even_z(z, np.array([False, True, False, False]), 0.025)
    assert grid.sources[0].lower == 0 and not grid.sources[0].missing
    assert grid.sources[1].missing  # between the missing slice 1 and slice 2
    assert grid.sources[2].lower == 2  # on slice 2 itself


# -- Li fraction ------------------------------------------------------------------------------


def test_li_fraction_normalises_each_peak_by_its_isotope_abundance():
    shape = (1, 3)
    maps = {
        "7Li+": np.array([[0.9241 * 10, 0.0, 0.0]]),
        "58Ni+": np.array([[0.680769 * 10, 0.0, 5.0]]),
        "55Mn+": np.zeros(shape),
    }
    fraction = li_fraction(maps)
    assert fraction[0, 0] == pytest.approx(0.5, rel=1e-6)  # Li = Ni: one half
    assert np.isnan(fraction[0, 1])  # no signal: no ratio
    assert fraction[0, 2] == pytest.approx(0.0)


# -- a quick run on the twin, reconstructed ----------------------------------------------------


def test_the_volumes_have_the_run_shapes_and_physical_voxel_sizes(run, volumes):
    with RunData(run / "run.h5") as data:
        z = data.face_z_um
        se_nm = data.field("se_image").pixel_size_nm
        sims_nm = data.field("sims_raster").pixel_size_nm
        se_shape = data.image("se_image").shape
        sims_shape = data.counts("sims_raster").shape
    with VolumeFile(volumes) as v:
        assert {"se", "se_binned", "7Li+", "7Li+_corrected", "li_fraction"} <= set(v.names)
        se = v.info("se")
        assert se.shape == se_shape == (4, 144, 192)
        assert se.voxel_size_um[1:] == pytest.approx((se_nm / 1000, se_nm / 1000))
        assert se.voxel_size_um[0] == pytest.approx((z[-1] - z[0]) / (len(z) - 1))
        li = v.info("7Li+_corrected")
        assert li.shape == (4, *sims_shape[-2:]) == (4, 48, 64)
        assert li.voxel_size_um[1:] == pytest.approx((sims_nm / 1000, sims_nm / 1000))
        np.testing.assert_allclose(v.z_um("measured"), z)
        np.testing.assert_allclose(v.z_um("even")[[0, -1]], z[[0, -1]])
        assert v.info("se_binned").shape == li.shape


def test_the_measured_volumes_hold_the_run_data_unchanged(run, volumes):
    """The twin's fields share a centre and the refinement stays under half a SIMS pixel, so
    every count sits where the run put it."""
    with RunData(run / "run.h5") as data:
        counts = data.counts("sims_raster")[()]
        se = data.image("se_image")[()]
        labels = [p.label for p in data.peaks("sims_raster")]
    with VolumeFile(volumes) as v:
        np.testing.assert_array_equal(v.volume("se", "measured")[()], se.astype(np.float32))
        raw = v.volume("7Li+", "measured")[()]
        np.testing.assert_array_equal(raw, counts[:, labels.index("7Li+")].astype(np.float32))


def test_the_registration_is_recorded_and_small_on_the_twin(volumes):
    with VolumeFile(volumes) as v:
        record = v.group("registration")
    assert record["refinement_applied"].all()
    assert np.abs(record["refinement_found_sims_px"]).max() < 0.5
    assert (record["correlation"] > 0.5).all()
    np.testing.assert_allclose(record["pixel_map"][:, 0], 3.0, rtol=1e-6)


def test_the_corrected_6li_7li_ratio_matches_natural_abundance(volumes):
    """Natural 7.59 % 6Li, 92.41 % 7Li: ratio 0.0821. The raw maps read otherwise (the duty
    cycle catches less 6Li+, the digitiser's range clips the brightest 7Li+); the corrected
    volumes must match within 3 %."""
    with VolumeFile(volumes) as v:
        raw = np.nansum(v.volume("6Li+", "measured")) / np.nansum(v.volume("7Li+", "measured"))
        c6 = np.nansum(v.volume("6Li+_corrected", "measured")[()], dtype=np.float64)
        c7 = np.nansum(v.volume("7Li+_corrected", "measured")[()], dtype=np.float64)
    assert abs(raw / NATURAL_6LI_7LI - 1) > 0.05
    assert c6 / c7 == pytest.approx(NATURAL_6LI_7LI, rel=0.03)


def test_a_run_whose_instrument_reported_no_extraction_rate_gets_no_corrected_volumes(
    run, tmp_path
):
    """Hardware that does not report its TOF extraction rate: the raw counts are reconstructed,
    the corrected volumes are left out (never corrected with a guessed rate), and the note says
    which option supplies it."""
    copy = tmp_path / "run.h5"
    shutil.copyfile(run / "run.h5", copy)
    with h5py.File(copy, "r+") as f:
        for key in ("extraction_rate_hz", "max_ions_per_extraction"):
            del f["entry/sims_raster"].attrs[key]
    result = reconstruct(copy, tmp_path / "volumes.h5")
    with VolumeFile(tmp_path / "volumes.h5") as v:
        assert "7Li+" in v.names and "7Li+_corrected" not in v.names
        assert "li_fraction" not in v.names
    assert any("--extraction-rate-hz" in note for note in result.notes)


def test_a_missing_slice_is_a_nan_plane(run, tmp_path):
    class OneMissing(RunData):
        @property
        def missing(self) -> np.ndarray:
            flags = super().missing.copy()
            flags[1] = True
            return flags

    out = tmp_path / "volumes.h5"
    result = reconstruct(run / "run.h5", out, open_run=OneMissing)
    assert result.missing == 1
    with VolumeFile(out) as v:
        for name in ("se", "7Li+_corrected", "li_fraction"):
            measured = v.volume(name, "measured")
            assert np.isnan(measured[1]).all()
            assert np.isfinite(measured[0]).any() and np.isfinite(measured[2]).any()
        assert np.isnan(v.volume("se", "even")[1]).all()


def test_reading_a_volume_that_is_not_there_names_the_ones_that_are(volumes):
    with VolumeFile(volumes) as v, pytest.raises(VolumeError, match="choose one of: se, "):
        v.volume("9Be+")


def test_a_file_that_is_not_a_volumes_file_is_refused(run):
    with pytest.raises(VolumeError, match="not a fibsims volumes file"):
        VolumeFile(run / "run.h5")
