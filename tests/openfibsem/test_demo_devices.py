"""The backend's devices on OpenFIBSEM's ``DemoMicroscope``: what each call asks of fibsem,
in fibsem's units and frames, and what fibsims reads back."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

pytest.importorskip("fibsem", reason="OpenFIBSEM (PyPI fibsem) is not installed")

from fibsem.structures import BeamType, CrossSectionPattern

from fibsims.instrument import (
    InstrumentError,
    InstrumentOptions,
    MillPattern,
    PatternKind,
    ScanRequest,
    StagePosition,
)

ION = BeamType.ION
CUT = MillPattern(
    kind=PatternKind.CLEANING_CROSS_SECTION, width_um=20, height_um=2, depth_um=16, front_z_um=0.5
)


def test_the_demo_column_is_a_xenon_plasma_column(openfibsem):
    assert openfibsem.name == "openfibsem"
    assert openfibsem.column.ion_species == "Xe"
    assert openfibsem.column.voltage_kv() == pytest.approx(30.0)


def test_the_current_ladder_is_fibsems_available_ion_currents_in_na(openfibsem):
    reported = openfibsem.microscope.get_available_values("current", ION)
    ladder = openfibsem.column.current_ladder_na()
    assert list(ladder) == sorted(ladder)
    assert ladder == pytest.approx([a * 1e9 for a in sorted(reported)], rel=1e-6)
    assert 15.0 in ladder and 4.0 in ladder  # rounded to 6 figures: 15e-9 A reads 15 nA


def test_setting_a_current_selects_the_rung_and_sets_amperes(openfibsem):
    assert openfibsem.column.set_current_na(1.0) == pytest.approx(1.00005)
    assert openfibsem.microscope.get_beam_current(ION) == pytest.approx(1.00005e-9)
    assert openfibsem.column.current_na() == pytest.approx(1.00005)


def test_a_current_off_the_ladder_is_refused_naming_the_neighbours(openfibsem):
    with pytest.raises(InstrumentError, match=r"13.7 nA .* 4 nA and 15 nA"):
        openfibsem.column.set_current_na(13.7)


def test_voltage_is_set_in_volts(openfibsem):
    openfibsem.column.set_voltage_kv(16)
    assert openfibsem.microscope.get_beam_voltage(ION) == pytest.approx(16_000)


def test_blanking_goes_to_the_ion_beam(openfibsem):
    openfibsem.column.blank()
    assert openfibsem.column.is_blanked() and openfibsem.microscope.is_blanked(ION)
    openfibsem.column.unblank()
    assert not openfibsem.column.is_blanked()


def test_beam_shift_is_metres_in_fibsem_with_y_up(openfibsem):
    openfibsem.column.set_beam_shift_um((1.5, 2.0))
    shift = openfibsem.microscope.get_beam_shift(ION)
    assert (shift.x, shift.y) == pytest.approx((1.5e-6, -2.0e-6))
    assert openfibsem.column.beam_shift_um() == pytest.approx((1.5, 2.0))


def test_the_stage_reads_raw_coordinates_in_fibsims_pose(openfibsem):
    # the demo starts at raw r = t = 0; the FIB orientation is t = 52 - 35 deg, r = 180 deg
    pose = openfibsem.stage.position()
    assert pose.tilt_deg == pytest.approx(-17.0)
    assert pose.rotation_deg == pytest.approx(-180.0)


def test_a_stage_move_is_asked_in_metres_and_radians_of_the_raw_frame(openfibsem):
    reached = openfibsem.stage.move_to(
        StagePosition(x_um=10, y_um=-5, z_um=2000, tilt_deg=0, rotation_deg=-20)
    )
    raw = openfibsem.microscope.get_stage_position()
    assert (raw.x, raw.y, raw.z) == pytest.approx((10e-6, -5e-6, 2e-3))
    assert math.degrees(raw.t) == pytest.approx(17.0)
    assert math.degrees(raw.r) == pytest.approx(160.0)
    assert reached.rotation_deg == pytest.approx(-20.0) and reached.tilt_deg == pytest.approx(0)


def test_milling_draws_one_beam_relative_rectangle_and_runs_it(openfibsem, monkeypatch):
    drawn, runs = [], []
    microscope = openfibsem.microscope
    monkeypatch.setattr(microscope, "draw_rectangle", drawn.append)
    real_run = microscope.run_milling
    monkeypatch.setattr(microscope, "run_milling", lambda **kw: runs.append(kw) or real_run(**kw))
    openfibsem.column.set_current_na(15)
    openfibsem.column.unblank()
    result = openfibsem.column.mill(CUT)
    (rect,) = drawn
    assert rect.cross_section is CrossSectionPattern.CleaningCrossSection
    assert (rect.width, rect.height, rect.depth) == pytest.approx((20e-6, 2e-6, 16e-6))
    assert (rect.centre_x, rect.centre_y) == pytest.approx((0.0, -0.5e-6))
    assert runs == [{"milling_current": pytest.approx(15e-9), "milling_voltage": 30_000}]
    assert result.current_na == pytest.approx(15) and result.face_z_um == 0.5
    assert microscope.get_beam_current(ION) == pytest.approx(15e-9)  # restored after


def test_the_dose_is_the_current_times_the_milling_time_on_the_clock(openfibsem, monkeypatch):
    def twelve_seconds(**_settings):
        openfibsem.clock._start_s += 12.0  # the mill takes 12 s of the clock

    monkeypatch.setattr(openfibsem.microscope, "run_milling", twelve_seconds)
    openfibsem.column.set_current_na(4)
    openfibsem.column.unblank()
    result = openfibsem.column.mill(CUT)
    assert result.duration_s == pytest.approx(12.0, abs=0.5)
    assert result.dose_nc == pytest.approx(4 * result.duration_s)


@pytest.mark.parametrize(
    "size", [{"width_um": -1.0}, {"height_um": 0.0}, {"depth_um": float("nan")}]
)
def test_a_mill_pattern_without_positive_finite_sizes_is_refused(openfibsem, size):
    openfibsem.column.set_current_na(4)
    openfibsem.column.unblank()
    with pytest.raises(InstrumentError, match="positive and finite"):
        openfibsem.column.mill(dataclasses.replace(CUT, **size))


def test_milling_with_the_beam_blanked_is_refused(openfibsem):
    openfibsem.column.blank()
    with pytest.raises(InstrumentError, match="blanked"):
        openfibsem.column.mill(CUT)


def test_an_se_image_is_acquired_with_the_requested_scan(openfibsem):
    request = ScanRequest(resolution_px=(192, 144), dwell_us=3.0, frames=2, field_width_um=20)
    image = openfibsem.se_detector.acquire_image(request)
    settings = openfibsem.microscope.last_image(ION).metadata.image_settings
    assert settings.beam_type is ION
    assert tuple(settings.resolution) == (192, 144)
    assert settings.dwell_time == pytest.approx(3e-6)
    assert settings.hfw == pytest.approx(20e-6)
    assert image.pixels.shape == (144, 192) and image.pixels.dtype == np.uint16
    assert image.pixel_size_nm == pytest.approx(20_000 / 192)
    assert image.frames == 2 and image.dwell_us == 3.0


def test_an_off_centre_scan_shifts_the_beam_and_puts_it_back(openfibsem, monkeypatch):
    seen = []
    microscope = openfibsem.microscope
    real = microscope.acquire_image
    monkeypatch.setattr(
        microscope,
        "acquire_image",
        lambda **kw: seen.append(microscope.get_beam_shift(ION)) or real(**kw),
    )
    openfibsem.column.set_beam_shift_um((1.0, 0.0))
    request = ScanRequest((64, 48), 1.0, 1, 10.0, center_x_um=2.0, center_y_um=3.0)
    openfibsem.se_detector.acquire_image(request)
    assert (seen[0].x, seen[0].y) == pytest.approx((3e-6, -3e-6))
    assert openfibsem.column.beam_shift_um() == pytest.approx((1.0, 0.0))


def test_detector_contrast_and_brightness_are_fibsems_zero_to_one(openfibsem):
    openfibsem.se_detector.set_contrast(0.7)
    openfibsem.se_detector.set_brightness(0.3)
    assert openfibsem.microscope.get_detector_contrast(ION) == pytest.approx(0.7)
    assert openfibsem.se_detector.brightness() == pytest.approx(0.3)
    with pytest.raises(InstrumentError, match="between 0 and 1"):
        openfibsem.se_detector.set_contrast(1.5)


def test_autofocus_reports_the_working_distance_change_fibsem_made(openfibsem, monkeypatch):
    microscope = openfibsem.microscope
    before = microscope.get_working_distance(ION)
    monkeypatch.setattr(
        microscope,
        "auto_focus",
        lambda beam_type: microscope.set_working_distance(before + 40e-6, beam_type),
    )
    result = openfibsem.column.autofocus()
    assert result.defocus_before_um == pytest.approx(40.0)
    assert result.defocus_after_um is None  # fibsem cannot say how far off focus stays


def test_the_clock_is_wall_time_from_the_runs_start(open_backend):
    instrument = open_backend(InstrumentOptions(seed=1, start_time_s=3600.0))
    try:
        first = instrument.clock.now_s()
        instrument.clock.sleep(0.01)
        assert 3600.0 <= first < instrument.clock.now_s() < 3660.0
    finally:
        instrument.close()


def test_a_raster_without_a_composed_spectrometer_says_how_to_get_one(openfibsem):
    with pytest.raises(InstrumentError, match="--tof sim"):
        openfibsem.tof.acquire_raster(None)


def test_capabilities_declare_what_fibsem_reports(openfibsem):
    caps = openfibsem.capabilities
    assert caps.current_ladder_na == tuple(openfibsem.column.current_ladder_na())
    assert caps.voltage_range_kv == (0.5, 30.0)
    assert caps.sims_scan is None
    assert caps.devices == ("stage", "column", "se_detector", "vacuum")
    assert caps.stage_tilt_range_deg == pytest.approx((-27.0, 73.0))  # -10..90 raw, less 17
    assert caps.stage_travel_um[2] == pytest.approx((0.0, 40_000.0))


def test_the_gauge_reads_fibsems_chamber_pressure(openfibsem):
    assert openfibsem.vacuum.chamber_pressure_pa() == pytest.approx(1e-6)


def test_a_milling_failure_is_an_instrument_error_and_clears_the_patterns(openfibsem, monkeypatch):
    microscope = openfibsem.microscope

    def refuse(**_):
        raise RuntimeError("patterning interlock")

    monkeypatch.setattr(microscope, "run_milling", refuse)
    openfibsem.column.unblank()
    with pytest.raises(InstrumentError, match="patterning interlock"):
        openfibsem.column.mill(CUT)
    assert microscope.milling_system.patterns == []
