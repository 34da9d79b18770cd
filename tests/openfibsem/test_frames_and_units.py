"""The coordinate and unit mapping between fibsims and OpenFIBSEM (pure: no microscope)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fibsims.instrument import MillPattern, PatternKind, StagePosition
from fibsims_openfibsem import units
from fibsims_openfibsem.frames import (
    StageFrame,
    beam_to_face_um,
    face_to_beam_m,
    field_width_for_m,
    pattern_rectangle,
)

FIB_ORIENTATION = StageFrame(
    reference_tilt_deg=17.0, reference_rotation_deg=180.0, specimen_offset_um=(5.0, -3.0)
)


def test_units_cross_between_fibsims_names_and_si():
    assert units.um_to_m(12.5) == pytest.approx(12.5e-6)
    assert units.m_to_um(2e-3) == pytest.approx(2000.0)
    assert units.na_to_a(15) == pytest.approx(15e-9)
    assert units.a_to_na(1e-10) == pytest.approx(0.1)
    assert units.kv_to_v(30) == 30_000
    assert units.v_to_kv(500) == 0.5
    assert units.us_to_s(3) == pytest.approx(3e-6)
    assert units.rad_to_deg(math.pi) == pytest.approx(180.0)
    assert units.m_to_um(None) == 0.0 and units.rad_to_deg(None) == 0.0


def test_zero_tilt_and_rotation_are_fibsems_fib_orientation():
    raw = FIB_ORIENTATION.to_raw(StagePosition())
    assert math.degrees(raw.t_rad) == pytest.approx(17.0)
    assert abs(math.degrees(raw.r_rad)) == pytest.approx(180.0)


def test_specimen_offset_moves_x_and_y_not_z():
    raw = FIB_ORIENTATION.to_raw(StagePosition(x_um=10.0, y_um=20.0, z_um=30.0))
    assert raw.x_m == pytest.approx(5e-6)
    assert raw.y_m == pytest.approx(23e-6)
    assert raw.z_m == pytest.approx(30e-6)


@pytest.mark.parametrize(
    "pose",
    [
        StagePosition(),
        StagePosition(x_um=-120.0, y_um=4.5, z_um=3900.0, tilt_deg=-10.0, rotation_deg=-20.0),
        StagePosition(tilt_deg=38.0, rotation_deg=20.0),
        StagePosition(rotation_deg=-179.5),
    ],
)
def test_stage_pose_survives_the_round_trip_through_raw_coordinates(pose):
    raw = FIB_ORIENTATION.to_raw(pose)
    back = FIB_ORIENTATION.from_raw(raw.x_m, raw.y_m, raw.z_m, raw.r_rad, raw.t_rad)
    for axis in ("x_um", "y_um", "z_um", "tilt_deg", "rotation_deg"):
        assert getattr(back, axis) == pytest.approx(getattr(pose, axis), abs=1e-9), axis


def test_raw_rotation_reads_back_the_short_way_round():
    frame = StageFrame(reference_rotation_deg=180.0)
    pose = frame.from_raw(0, 0, 0, math.radians(160.0), 0)
    assert pose.rotation_deg == pytest.approx(-20.0)
    pose = frame.from_raw(0, 0, 0, math.radians(-160.0), 0)
    assert pose.rotation_deg == pytest.approx(20.0)


def test_unreported_axes_read_as_zero():
    assert StageFrame().from_raw(None, None, None, None, None) == StagePosition()


def test_beam_offsets_flip_y_from_down_the_face_to_up_the_image():
    assert face_to_beam_m(1.5, 2.0) == pytest.approx((1.5e-6, -2.0e-6))
    assert beam_to_face_um(1.5e-6, -2.0e-6) == pytest.approx((1.5, 2.0))
    assert beam_to_face_um(0.0, 0.0) == (0.0, 0.0)


def test_a_cut_is_a_cleaning_cross_section_centred_behind_its_front_edge():
    cut = MillPattern(
        kind=PatternKind.CLEANING_CROSS_SECTION,
        width_um=20.0,
        height_um=2.0,
        depth_um=16.0,
        front_z_um=0.5,
        center_x_um=-1.0,
        center_y_um=7.0,  # down the face: not drawable in the top view, not used
        rotation_deg=0.0,
    )
    rect = pattern_rectangle(cut)
    assert rect.cleaning_cross_section
    assert (rect.width_m, rect.height_m, rect.depth_m) == pytest.approx((20e-6, 2e-6, 16e-6))
    assert rect.centre_x_m == pytest.approx(-1e-6)
    assert rect.centre_y_m == pytest.approx(-0.5e-6)  # 0.5 - 2 / 2 um, up the image = +z


def test_a_fiducial_box_keeps_its_rotation_in_radians():
    box = MillPattern(
        kind=PatternKind.BOX, width_um=0.5, height_um=10, depth_um=1, front_z_um=8, rotation_deg=30
    )
    rect = pattern_rectangle(box)
    assert not rect.cleaning_cross_section
    assert rect.rotation_rad == pytest.approx(math.radians(30))


def test_the_milling_field_holds_the_pattern():
    rect = pattern_rectangle(
        MillPattern(PatternKind.BOX, width_um=20, height_um=2, depth_um=1, front_z_um=30)
    )
    assert field_width_for_m(rect) >= 2 * (29e-6 + 1e-6)


def test_fibsem_grey_levels_become_summed_uint16_with_saturation():
    pytest.importorskip("fibsem", reason="OpenFIBSEM (PyPI fibsem) is not installed")
    from fibsims_openfibsem.devices import image_from_fibsem  # imports fibsem

    grey = np.array([[0, 10], [255, 128]], dtype=np.uint8)
    pixels, saturated = image_from_fibsem(grey, frames=4)
    assert pixels.dtype == np.uint16
    assert pixels.tolist() == [[0, 40], [1020, 512]]
    assert saturated == pytest.approx(0.25)
