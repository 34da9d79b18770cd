"""The true face: it moves only by what removes material, never re-established by a cut."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims.instrument import MillPattern, PatternKind, ScanRequest
from fibsims_twin.milling import curtain_severity
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.sputtering import SputterModel

YV_UM3_PER_NC = 0.34  # Yamamura-Tawara NMC811 rate every scan sputters at (0 tilt)
CCS = PatternKind.CLEANING_CROSS_SECTION
WALLS = SputterModel(TwinParameters().column, TwinParameters().materials).nmc


def scan_depth_nm(current_na: float, request: ScanRequest) -> float:
    """Depth a scan sputters by its dose: I x dwell x pixels / area x Yv."""
    width, height = request.resolution_px
    charge_nc = current_na * width * height * request.dwell_us * 1e-6 * request.frames
    area_um2 = request.field_width_um * request.field_height_um
    return 1000 * charge_nc / area_um2 * YV_UM3_PER_NC


def deep_raster(kit, field_um: float):
    """The small raster on a field of ``field_um``: 52 nm deep at 5 um, 3.3 nm at 20 um."""
    return dataclasses.replace(
        kit.SMALL_RASTER, scan=dataclasses.replace(kit.SMALL_RASTER.scan, field_width_um=field_um)
    )


def image_and_raster(twin, kit, raster) -> None:
    column = twin.column
    column.set_current_na(0.1)
    column.unblank()
    twin.se_detector.acquire_image(kit.SMALL_IMAGE)
    column.set_current_na(0.8)
    twin.tof.acquire_raster(raster)
    column.blank()


def test_a_cut_behind_the_sputtered_face_removes_nothing_and_the_face_keeps_the_sims_depth(
    make_twin, kit
) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    raster = deep_raster(kit, 5.0)
    kit.mill_slice(twin, 0)
    assert twin.state.sample_face_z_um == pytest.approx(0.025, abs=1e-12)
    image_and_raster(twin, kit, raster)
    sputtered_nm = scan_depth_nm(0.1, kit.SMALL_IMAGE) + scan_depth_nm(0.8, raster.scan)
    assert sputtered_nm == pytest.approx(44.6, abs=0.1)  # the default raster's dose per area
    after_scans = twin.state.sample_face_z_um
    assert after_scans == pytest.approx(0.025 + sputtered_nm / 1000, rel=1e-9)
    record = twin.state.curtain
    kit.mill_slice(twin, 1)  # the next 25 nm cut (and its polish) lands 19.6 nm behind the face
    assert twin.state.sample_face_z_um == after_scans  # nothing removed, the SIMS depth kept
    assert twin.state.face_z_um == pytest.approx(0.05)  # the instrument thinks it cut to 0.05
    assert twin.state.curtain is record and record.front_um == 0.025  # the old curtains stay


@pytest.mark.parametrize("field_um", [5.0, 20.0])
def test_the_face_advances_per_slice_by_the_slice_or_what_the_scans_sputtered(
    make_twin, kit, field_um
) -> None:
    twin = make_twin(parameters=kit.quiet_parameters())
    raster = deep_raster(kit, field_um)
    per_slice_nm = scan_depth_nm(0.1, kit.SMALL_IMAGE) + scan_depth_nm(0.8, raster.scan)
    faces = []
    for index in range(6):
        kit.mill_slice(twin, index)
        image_and_raster(twin, kit, raster)
        faces.append(twin.state.sample_face_z_um)
    advance_nm = 1000 * np.diff(faces)
    # 44.6 nm of scans outrun the 25 nm slices; 2.8 nm do not, and every cut removes 22.2 nm
    np.testing.assert_allclose(advance_nm, max(25.0, per_slice_nm), rtol=1e-9)


def test_with_drift_and_placement_the_face_still_follows_the_deeper_of_the_two(
    make_twin, kit
) -> None:
    defaults = TwinParameters()
    twin = make_twin(seed=9, parameters=kit.quiet_parameters(milling=defaults.milling))
    raster = deep_raster(kit, 5.0)
    faces = []
    for index in range(8):
        kit.mill_slice(twin, index)
        image_and_raster(twin, kit, raster)
        faces.append(twin.state.sample_face_z_um)
    # the cuts' placement errors (2 nm) never reach 19 nm: only the scans move the face
    per_slice_nm = scan_depth_nm(0.1, kit.SMALL_IMAGE) + scan_depth_nm(0.8, raster.scan)
    np.testing.assert_allclose(1000 * np.diff(faces), per_slice_nm, rtol=1e-9)


def test_a_polish_sweeps_the_face_its_cut_made_but_not_a_face_the_scans_moved_on(
    make_twin, kit
) -> None:
    quiet = kit.quiet_parameters()
    milling = dataclasses.replace(quiet.milling, curtain_contrast_rms=0.08)
    twin = make_twin(parameters=dataclasses.replace(quiet, milling=milling))
    kit.mill_slice(twin, 0, angles=())  # a cut, no polish
    unpolished = curtain_severity(twin.state.curtain, milling, WALLS)
    image_and_raster(twin, kit, deep_raster(kit, 5.0))
    kit.mill_slice(twin, 1)  # cut and rocking polish at 0.05, all behind the face
    assert curtain_severity(twin.state.curtain, milling, WALLS) == unpolished
    twin.column.set_current_na(4.0)
    twin.column.unblank()
    for _ in range(2):  # passes at the first cut's front still sweep the face it made
        twin.column.mill(MillPattern(CCS, 20.0, 0.1, 18.0, 0.025))
    assert twin.state.curtain.polish_rotations_deg == [0.0, 0.0]


def test_the_focus_sweep_sputters_the_face_by_its_dose(make_twin, kit) -> None:
    p = TwinParameters().column
    twin = make_twin(parameters=kit.quiet_parameters())
    twin.column.set_current_na(0.1)
    before = twin.state.sample_face_z_um
    twin.column.autofocus()
    width, height = p.autofocus_resolution_px
    sweep = ScanRequest((width, height), p.autofocus_dwell_us, p.autofocus_frames, 20.0)
    depth_nm = 1000 * (twin.state.sample_face_z_um - before)
    assert depth_nm == pytest.approx(scan_depth_nm(0.1, sweep), rel=1e-9)
    assert depth_nm == pytest.approx(0.20, abs=0.01)
