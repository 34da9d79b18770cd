"""Ground truth: what the twin's last image and raster saw, for scoring runs against it."""

from __future__ import annotations

import numpy as np
import pytest

from fibsims.instrument import InstrumentError, Polarity, RasterRequest, ScanRequest
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.scan import pixel_axes

RASTER_KEYS = {"labels", "li_fraction", "ni_fraction", "mn_fraction", "co_fraction", "o_fraction"}


def test_truth_maps_have_the_acquisition_shape_keys_and_dtypes(twin, kit) -> None:
    img, ras, image_truth, raster_truth = kit.run_slice(twin, 0)
    assert set(image_truth) == {"labels", "li_fraction"}
    assert set(raster_truth) == RASTER_KEYS
    for truth, shape in ((image_truth, img.pixels.shape), (raster_truth, ras.count_maps.shape[1:])):
        assert truth["labels"].dtype == np.uint8
        assert set(np.unique(truth["labels"])) <= {int(m) for m in Material}
        for key, value in truth.items():
            assert value.shape == shape, key
            if key != "labels":
                assert value.dtype == np.float32, key
                assert np.all((value >= 0) & (value <= 1)), key


def test_there_is_no_truth_before_an_acquisition(twin) -> None:
    with pytest.raises(InstrumentError, match="no SE image"):
        twin.truth.last_image_truth()
    with pytest.raises(InstrumentError, match="no SIMS raster"):
        twin.truth.last_raster_truth()


def test_image_truth_is_the_face_of_the_field_the_drift_put_under_the_beam(make_twin, kit) -> None:
    twin = make_twin(seed=8)
    kit.mill_slice(twin, 0)
    twin.clock.sleep(3 * 3600.0)  # let the sample drift
    request = ScanRequest((384, 256), 3.0, 2, 20.0)
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    start, face_z = twin.clock.now_s(), twin.state.sample_face_z_um
    img = twin.se_detector.acquire_image(request)
    middle = start + img.duration_s / 2
    p = TwinParameters().stage
    error = np.radians(twin.state.rotation_error_deg)
    drift = twin.slow.drift_um(middle)
    centre = (
        -drift[0] - error * p.rotation_axis_offset_um[1],
        -drift[1] + error * p.rotation_axis_offset_um[0],
    )
    assert np.hypot(*drift[:2]) > 0.02  # tens of nm: more than a pixel
    face = twin.phantom.face(face_z, *pixel_axes(request, centre))
    truth = twin.truth.last_image_truth()
    np.testing.assert_array_equal(truth["labels"], face.labels)
    np.testing.assert_array_equal(truth["li_fraction"], face.li_fraction)
    undrifted = twin.phantom.face(face_z, *pixel_axes(request, (0.0, 0.0)))
    assert not np.array_equal(truth["labels"], undrifted.labels)


def test_raster_truth_averages_the_sputtered_depth_and_holds_the_nmc_formula(twin, kit) -> None:
    _, _, _, truth = kit.run_slice(twin, 0)
    nmc = truth["labels"] == Material.NMC811
    metals = truth["ni_fraction"] + truth["mn_fraction"] + truth["co_fraction"]
    deep_nmc = nmc & (truth["li_fraction"] > 0) & (truth["o_fraction"] > 0)
    # where both sublayers are NMC: O / metals = 2 and Ni / Mn = 8 (LiNi0.8Mn0.1Co0.1O2)
    both = deep_nmc & np.isclose(truth["o_fraction"] / np.maximum(metals, 1e-9), 2.0, rtol=1e-4)
    assert both.mean() > 0.3
    np.testing.assert_allclose(
        truth["ni_fraction"][both] / truth["mn_fraction"][both], 8, rtol=1e-4
    )


def test_the_default_raster_li_map_scores_well_against_the_truth(make_twin, kit) -> None:
    twin = make_twin(seed=811)
    scores = []
    for index in range(3):
        _, ras, _, truth = kit.run_slice(twin, index, kit.SMALL_IMAGE, kit.FULL_RASTER)
        li7 = ras.count_maps[ras_index(ras, "7Li+")].astype(np.float64)
        scores.append(np.corrcoef(li7.ravel(), truth["li_fraction"].ravel())[0, 1])
    # what the data layer reports as quality.li_map_pearson_r for the default recipe
    assert 0.8 < np.mean(scores) < 0.99


def ras_index(raster, label: str) -> int:
    return [peak.label for peak in raster.peaks].index(label)


def test_truth_is_a_copy_the_caller_may_keep(twin, kit) -> None:
    kit.run_slice(twin, 0)
    first = twin.truth.last_raster_truth()
    first["li_fraction"][:] = -1
    assert twin.truth.last_raster_truth()["li_fraction"].min() >= 0
    twin.column.set_current_na(0.8)
    twin.column.unblank()
    twin.tof.acquire_raster(
        RasterRequest(ScanRequest((32, 32), 50.0, 2, 20.0), Polarity.POSITIVE, ("7Li+",))
    )
    assert twin.truth.last_raster_truth()["labels"].shape == (32, 32)


def test_there_is_no_geometry_before_an_acquisition(twin) -> None:
    with pytest.raises(InstrumentError, match="no image or raster"):
        twin.truth.last_geometry()


def test_last_geometry_is_the_drift_field_centre_face_and_defocus_at_the_middle(
    make_twin, kit
) -> None:
    twin = make_twin(seed=8)
    kit.mill_slice(twin, 0)  # leaves a stage rotation error
    twin.clock.sleep(3 * 3600.0)
    twin.column.set_beam_shift_um((0.4, -0.3))
    p = TwinParameters().stage
    for acquire in (
        lambda: twin.se_detector.acquire_image(ScanRequest((384, 256), 3.0, 2, 20.0)),
        lambda: twin.tof.acquire_raster(kit.SMALL_RASTER),
    ):
        twin.column.set_current_na(0.1)
        twin.column.unblank()
        start, face_z = twin.clock.now_s(), twin.state.sample_face_z_um
        duration_s = acquire().duration_s
        sputtered = twin.state.sample_face_z_um - face_z
        middle = start + duration_s / 2
        drift = twin.slow.drift_um(middle)
        error = np.radians(twin.state.rotation_error_deg)
        geometry = twin.truth.last_geometry()
        assert geometry.drift_um == tuple(drift)
        assert np.linalg.norm(drift) > 0.02  # hours of drift: tens of nm
        np.testing.assert_allclose(
            geometry.field_center_um,
            (
                0.4 - drift[0] - error * p.rotation_axis_offset_um[1],
                -0.3 - drift[1] + error * p.rotation_axis_offset_um[0],
            ),
            atol=1e-12,
        )
        assert geometry.face_z_um == pytest.approx(face_z + sputtered / 2, abs=1e-12)
        focus = twin.slow.focus_error_um(middle) - twin.state.focus_correction_um
        assert geometry.defocus_um == pytest.approx(focus, abs=1e-12)


def test_a_beam_shift_that_follows_the_drift_keeps_the_field_centre_fixed(make_twin, kit) -> None:
    defaults = TwinParameters()
    twin = make_twin(seed=4, parameters=kit.quiet_parameters(drift=defaults.drift))
    request = ScanRequest((192, 128), 1.0, 1, 20.0)
    half_s = twin.costs.image_s(request) / 2
    centres, drifts = [], []
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    for _ in range(6):
        twin.clock.sleep(1800.0)
        drift = twin.slow.drift_um(twin.clock.now_s() + half_s)  # where it will be mid-scan
        twin.column.set_beam_shift_um((float(drift[0]), float(drift[1])))  # shift = +d
        twin.se_detector.acquire_image(request)
        geometry = twin.truth.last_geometry()
        centres.append(geometry.field_center_um)
        drifts.append(geometry.drift_um[:2])
    assert np.ptp(np.array(drifts), axis=0).max() > 0.02  # the sample moved tens of nm
    np.testing.assert_allclose(centres, 0.0, atol=1e-12)  # the field stayed on it
