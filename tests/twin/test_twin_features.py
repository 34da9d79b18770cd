"""Features milled ahead of the face (fiducials): where they land and how the faces show them."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
from scipy import ndimage

from fibsims.instrument import (
    InstrumentOptions,
    MillPattern,
    PatternKind,
    ScanRequest,
    StagePosition,
    TransientInstrumentError,
)
from fibsims_twin.factory import create_instrument
from fibsims_twin.features import MilledFeature, MilledFeatures
from fibsims_twin.materials import Material
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.scan import pixel_axes

BOX = PatternKind.BOX
CCS = PatternKind.CLEANING_CROSS_SECTION
IMAGE = ScanRequest((768, 512), 3.0, 2, 10.0)  # 13 nm pixels


def mill(twin, pattern: MillPattern, current_na: float = 4.0):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    result = twin.column.mill(pattern)
    twin.column.blank()
    return result


def cut_to(twin, front_z_um: float) -> None:
    """A cut to ``front_z_um`` whose footprint reaches 0.5 um back past the face."""
    along_z = max(0.5, front_z_um - twin.state.sample_face_z_um + 0.5)
    mill(twin, MillPattern(CCS, 20.0, along_z, 18.0, front_z_um), 15.0)


def look(twin, request: ScanRequest = IMAGE):
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    image = twin.se_detector.acquire_image(request)
    twin.column.blank()
    return image, twin.truth.last_image_truth()["labels"]


def test_a_pattern_wholly_ahead_of_the_face_mills_a_feature_not_the_face(make_twin, kit) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    kit.mill_slice(twin, 0)
    face, nominal, curtain = twin.state.sample_face_z_um, twin.state.face_z_um, twin.state.curtain
    box = MillPattern(BOX, 0.5, 2.0, 4.0, 3.0, center_x_um=3.0)
    result = mill(twin, box)
    assert twin.state.sample_face_z_um == face and twin.state.face_z_um == nominal
    assert result.face_z_um == nominal and twin.state.curtain is curtain
    assert list(twin.state.features) == [MilledFeature(3.0, 0.0, 2.0, 0.5, 2.0, 4.0, 0.0)]
    # the same V / (Yv I) as any pattern, and what the cost model says
    assert result.duration_s == pytest.approx(0.5 * 2.0 * 4.0 / (0.34 * 4.0))
    assert result.duration_s == twin.costs.mill_s(box, 4.0)


def test_a_wide_pattern_reaching_behind_the_face_is_a_cut_even_if_its_front_is_far(
    make_twin, kit
) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    mill(twin, MillPattern(BOX, 20.0, 2.0, 4.0, 1.998))  # back edge 2 nm behind the face at 0
    assert len(twin.state.features) == 0 and twin.state.sample_face_z_um == 1.998
    mill(twin, MillPattern(BOX, 20.0, 2.0, 4.0, 3.9975))  # back 0.5 nm behind: within 1 nm
    assert len(twin.state.features) == 1 and twin.state.sample_face_z_um == 1.998


def test_a_narrow_line_reaching_the_face_notches_it_instead_of_cutting_it(make_twin, kit) -> None:
    # a fiducial line drawn from the face on: drift may put its back end a few nm behind the
    # face, but a 0.3 um line cannot expose a new 20 um face; it shows in the face at once
    twin = make_twin(parameters=kit.quiet_parameters())
    kit.mill_slice(twin, 0)
    face = twin.state.sample_face_z_um
    line = MillPattern(BOX, 0.3, 5.0, 4.0, face + 4.99, center_x_um=2.0)  # starts 10 nm behind
    assert mill(twin, line).face_z_um == 0.025
    assert twin.state.sample_face_z_um == face and len(twin.state.features) == 1
    _, labels = look(twin)
    x, _ = pixel_axes(IMAGE, (0.0, 0.0))
    columns = np.flatnonzero((labels == Material.VACUUM).any(axis=0))
    assert x[columns].mean() == pytest.approx(2.0, abs=x[1] - x[0])


def test_a_box_feature_shows_as_vacuum_exactly_where_the_face_crosses_it(make_twin, kit) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    kit.mill_slice(twin, 0)
    mill(twin, MillPattern(BOX, 0.6, 1.0, 3.0, 1.2, center_x_um=1.5, center_y_um=-0.5))
    x, y = pixel_axes(IMAGE, (0.0, 0.0))  # quiet: no drift, no stage error
    predicted = ((np.abs(y + 0.5) <= 1.5)[:, None]) & ((np.abs(x - 1.5) <= 0.3)[None, :])
    # the box spans z 0.2..1.2: faces before, inside and beyond it
    for front, crossed in ((0.1, False), (0.5, True), (1.1, True), (1.3, False)):
        cut_to(twin, front)
        _, labels = look(twin)
        assert np.array_equal(labels == Material.VACUUM, predicted & crossed)
    cut_to(twin, 0.7)  # behind the face now: removes nothing, the face stays beyond the box
    _, labels = look(twin)
    assert not np.any(labels == Material.VACUUM)


def test_vacuum_is_nearly_black_in_images_and_counts_nothing_in_rasters(make_twin, kit) -> None:
    p = TwinParameters().detector
    twin = make_twin(parameters=kit.quiet_parameters())
    kit.mill_slice(twin, 0)
    mill(twin, MillPattern(BOX, 4.0, 1.0, 6.0, 1.2))
    cut_to(twin, 0.6)
    image, labels = look(twin)
    inside = ndimage.binary_erosion(labels == Material.VACUUM, iterations=8)
    assert inside.sum() > 10_000
    primaries = 0.1e-9 * 3e-6 * 2 / 1.602176634e-19
    expected = primaries * p.se_yield_vacuum_per_ion * p.detection_efficiency
    assert image.pixels[inside].mean() == pytest.approx(expected, rel=0.1)
    twin.column.set_current_na(0.8)
    twin.column.unblank()
    raster = twin.tof.acquire_raster(kit.SMALL_RASTER)
    truth = twin.truth.last_raster_truth()
    void = ndimage.binary_erosion(truth["labels"] == Material.VACUUM, iterations=3)
    assert void.sum() > 50
    assert raster.count_maps[:, void].max() == 0
    assert truth["li_fraction"][void].max() == 0.0
    xe = twin.tof.acquire_raster(
        dataclasses.replace(kit.SMALL_RASTER, peaks=("132Xe+",))
    ).count_maps[0]
    solid = ndimage.binary_erosion(twin.truth.last_raster_truth()["labels"] != Material.VACUUM)
    assert xe[void].max() == 0 and xe[solid].mean() > 0.05  # ~0.1 Xe+ a pixel elsewhere


@pytest.mark.parametrize("rotation_deg", [30.0, -30.0])
def test_an_angled_line_section_moves_across_the_face_as_tan_rotation_predicts(
    make_twin, kit, rotation_deg
) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    kit.mill_slice(twin, 0)
    width, height, x_c, z_c = 0.2, 3.0, 0.5, 2.0
    line = MillPattern(BOX, width, height, 4.0, z_c + height / 2, x_c, 0.0, rotation_deg)
    mill(twin, line)
    x, _ = pixel_axes(IMAGE, (0.0, 0.0))
    pitch = x[1] - x[0]
    tan = math.tan(math.radians(rotation_deg))
    centres = {}
    for face_z in (1.5, 2.5):
        cut_to(twin, face_z)
        _, labels = look(twin)
        columns = np.flatnonzero((labels == Material.VACUUM).any(axis=0))
        assert columns.size == np.ptp(columns) + 1  # one contiguous section
        centres[face_z] = x[columns].mean()
        # x = x_c + (z - z_c) tan(rotation), w / cos(rotation) wide
        assert centres[face_z] == pytest.approx(x_c + (face_z - z_c) * tan, abs=pitch)
        section = x[columns[-1]] - x[columns[0]] + pitch
        assert section == pytest.approx(width / math.cos(math.radians(rotation_deg)), abs=pitch)
        lo, hi = twin.state.features[0].section_x_um(face_z)  # the face the image rendered
        assert (
            x[columns[0]] - pitch < lo <= x[columns[0]]
            and x[columns[-1]] <= hi < x[columns[-1]] + pitch
        )
    assert centres[2.5] - centres[1.5] == pytest.approx(1.0 * tan, abs=pitch)


def test_a_feature_is_placed_where_the_beam_put_it_in_the_drifting_sample(make_twin, kit) -> None:
    p = TwinParameters()
    quiet = kit.quiet_parameters(drift=p.drift, stage=p.stage)
    twin = make_twin(seed=6, parameters=quiet)
    kit.mill_slice(twin, 0)  # leaves a stage rotation error
    twin.clock.sleep(2 * 3600.0)
    twin.stage.move_to(StagePosition(x_um=1.0))
    twin.column.set_beam_shift_um((0.3, -0.2))
    twin.column.set_current_na(4.0)
    twin.column.unblank()
    start = twin.clock.now_s()
    box = MillPattern(BOX, 0.5, 1.0, 4.0, 2.0, center_x_um=2.0, center_y_um=0.5)
    result = twin.column.mill(box)
    drift = twin.slow.drift_um(start + result.duration_s / 2)
    error = math.radians(twin.state.rotation_error_deg)
    offset_x, offset_y = p.stage.rotation_axis_offset_um
    assert np.linalg.norm(drift) > 0.01 and error != 0.0
    (feature,) = twin.state.features
    assert feature.x_um == pytest.approx(2.0 + 1.0 + 0.3 - drift[0] - error * offset_y, abs=1e-12)
    assert feature.y_um == pytest.approx(0.5 - 0.2 - drift[1] + error * offset_x, abs=1e-12)
    assert feature.z_um == pytest.approx(2.0 - 0.5 - drift[2], abs=1e-12)


def test_a_feature_mill_does_not_arm_a_later_slice_fault(kit) -> None:
    fault = {"kind": "transient", "at_face_um": 1.0, "step": "se_image", "count": 1}
    twin = create_instrument(
        InstrumentOptions(seed=1, sample=kit.SAMPLE, faults=(fault,)), kit.quiet_parameters()
    )
    kit.mill_slice(twin, 0)
    mill(twin, MillPattern(BOX, 0.5, 1.0, 4.0, 3.0))  # a fiducial far ahead of the face
    look(twin, kit.SMALL_IMAGE)  # no fault yet
    cut_to(twin, 1.0)
    with pytest.raises(TransientInstrumentError):
        look(twin, kit.SMALL_IMAGE)


def test_carving_many_features_costs_little_per_face() -> None:
    rng = np.random.default_rng(0)
    features = MilledFeatures(
        MilledFeature(x, y, z, 0.2, 2.0, 4.0, r)
        for x, y, z, r in zip(
            rng.uniform(-10, 10, 2000),
            rng.uniform(-5, 5, 2000),
            rng.uniform(0, 10, 2000),
            rng.uniform(-45, 45, 2000),
            strict=True,
        )
    )
    x, y = pixel_axes(ScanRequest((1536, 1024), 3.0, 2, 20.0), (0.0, 0.0))
    labels = np.ones((1024, 1536), dtype=np.uint8)
    features.carve(labels, 5.0, x, y)  # builds the table once
    walls = []
    for z in np.linspace(1.0, 9.0, 9):
        start = time.perf_counter()
        assert features.carve(labels, float(z), x, y)
        walls.append(time.perf_counter() - start)
    # a few ms for 2000 features on the default image (an image takes ~65 ms)
    assert np.median(walls) < 0.02
