"""Column and stage: milling time and faces, the current ladder and source, focus, stage moves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims.instrument import InstrumentError, MillPattern, PatternKind, StagePosition
from fibsims_twin.parameters import ColumnParameters, StageParameters, TwinParameters

CCS = PatternKind.CLEANING_CROSS_SECTION
YV_UM3_PER_NC = 0.34  # Yamamura-Tawara estimate the twin mills NMC811 with (at 0 tilt)


def pattern(front_z_um: float, width: float = 20.0, along_z: float = 0.5, depth: float = 18.0):
    return MillPattern(CCS, width, along_z, depth, front_z_um)


def ready(twin, current_na: float):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    return twin


def test_mill_time_scales_as_one_over_the_current(make_twin) -> None:
    times = {i: ready(make_twin(), i).column.mill(pattern(0.025)).duration_s for i in (4, 15, 60)}
    products = [current * seconds for current, seconds in times.items()]
    np.testing.assert_allclose(products, products[0], rtol=1e-12)  # t = V / (Yv I)
    assert products[0] == pytest.approx(20 * 0.5 * 18 / YV_UM3_PER_NC)


def test_mill_time_scales_with_the_pattern_volume(twin) -> None:
    ready(twin, 15.0)
    single = twin.column.mill(pattern(0.025)).duration_s
    assert twin.column.mill(pattern(0.05, along_z=1.0)).duration_s == pytest.approx(2 * single)
    assert single == pytest.approx(35.29, abs=0.01)  # 20 x 0.5 x 18 um at 15 nA, Yv 0.34


def test_the_dose_follows_the_source_current_at_the_time_of_the_pattern(twin) -> None:
    ready(twin, 15.0)
    ratios = []
    for k in range(60):
        result = twin.column.mill(pattern(0.025 * (k + 1)))
        ratios.append(result.dose_nc / (result.current_na * result.duration_s))
        twin.clock.sleep(300.0)  # patterns minutes apart see independent emission
    sigma = TwinParameters().drift.emission_fluctuation_fraction
    assert np.std(ratios) == pytest.approx(sigma, rel=0.35)
    assert np.mean(ratios) == pytest.approx(1.0, abs=3 * sigma)


def test_the_measured_current_is_a_function_of_instrument_time(make_twin) -> None:
    a, b = make_twin(seed=4), make_twin(seed=4, start_time_s=5000.0)
    a.column.set_current_na(0.8)
    b.column.set_current_na(0.8)
    a.clock.sleep(b.clock.now_s() - a.clock.now_s())  # a lived through the time b skipped
    assert a.column.measured_current_na() == b.column.measured_current_na()
    readings = []
    for _ in range(200):
        a.clock.sleep(600.0)
        readings.append(a.column.measured_current_na() / 0.8 - 1)
    sigma = TwinParameters().drift.emission_fluctuation_fraction
    assert np.std(readings) == pytest.approx(sigma, rel=0.25)
    assert max(abs(r) for r in readings) < 0.1  # the engine's current watch stays quiet


def test_a_cut_lands_off_its_front_by_the_z_drift_and_a_few_nm_of_placement(twin) -> None:
    placement_nm = TwinParameters().milling.cut_placement_sigma_nm
    ready(twin, 15.0)
    faces, drift_z = [], []
    for k in range(60):
        start = twin.clock.now_s()
        result = twin.column.mill(pattern(0.025 * (k + 1)))
        assert result.face_z_um == 0.025 * (k + 1)  # what the instrument knows: the front
        faces.append(twin.state.sample_face_z_um)  # where the face really is
        drift_z.append(twin.slow.drift_um(start + result.duration_s / 2)[2])
        twin.clock.sleep(180.0)  # the rest of a slice
    thickness_nm = 1000 * np.diff(faces)
    drift_nm = 1000 * np.diff(drift_z)
    assert np.all(np.abs(thickness_nm - 25.0) < 15.0)  # a few nm off the nominal 25 nm
    # thickness = 25 nm - (z drift between the cuts) + the difference of two placement errors
    residual = thickness_nm - (25.0 - drift_nm)
    assert np.mean(residual) == pytest.approx(0.0, abs=1.0)
    assert np.std(residual) == pytest.approx(np.sqrt(2) * placement_nm, rel=0.3)


def test_a_polish_at_the_same_front_can_only_deepen_the_face(twin) -> None:
    ready(twin, 4.0)
    twin.column.mill(pattern(0.025))
    cut = twin.state.sample_face_z_um
    for _ in range(5):
        twin.column.mill(pattern(0.025, along_z=0.1))
        assert twin.state.sample_face_z_um >= cut
    assert len(twin.state.curtain.polish_rotations_deg) == 5


def test_pattern_behind_the_face_removes_nothing_but_costs_time(twin) -> None:
    ready(twin, 4.0)
    twin.column.mill(pattern(0.5, along_z=1.0))  # reaches back past the face at 0: a cut
    face = twin.state.sample_face_z_um
    before = twin.clock.now_s()
    result = twin.column.mill(pattern(0.3, along_z=0.1))
    assert result.face_z_um == 0.5 and twin.state.sample_face_z_um == face
    assert twin.clock.now_s() - before == pytest.approx(20 * 0.1 * 18 / (YV_UM3_PER_NC * 4.0))


def test_without_a_sample_state_the_twin_holds_a_fresh_sample_faced_at_zero(twin) -> None:
    # a resumed run that does not hand the sample state back gets a new sample: its first cut,
    # 5 um ahead of the face, lies wholly ahead of it and mills a groove, not the face
    ready(twin, 15.0)
    assert twin.state.sample_face_z_um == 0.0 and len(twin.state.features) == 0
    assert twin.column.mill(pattern(5.025)).face_z_um == 0.0
    assert twin.state.sample_face_z_um == 0.0 and len(twin.state.features) == 1
    assert twin.column.mill(pattern(0.025)).face_z_um == 0.025  # the first slice's cut
    assert twin.state.sample_face_z_um == pytest.approx(0.025, abs=0.01)


def test_blanked_beam_refuses_to_mill(twin) -> None:
    twin.column.set_current_na(15.0)
    assert twin.column.is_blanked()  # the twin opens safe
    with pytest.raises(InstrumentError, match=r"blanked.*unblank"):
        twin.column.mill(pattern(0.025))
    assert twin.state.face_z_um == 0.0


def test_invalid_pattern_is_refused(twin) -> None:
    ready(twin, 15.0)
    with pytest.raises(InstrumentError, match="depth_um"):
        twin.column.mill(pattern(0.025, depth=0.0))


def test_ladder_offers_the_recipe_currents_ascending(twin) -> None:
    ladder = list(twin.column.current_ladder_na())
    assert ladder == sorted(ladder)
    assert {0.1, 0.8, 4.0, 15.0} <= set(ladder)
    assert ladder[0] <= 0.001 and ladder[-1] >= 2500


@pytest.mark.parametrize(("request_na", "rung"), [(0.104, 0.1), (0.83, 0.8), (14.5, 15.0)])
def test_current_within_five_percent_selects_the_rung(twin, request_na, rung) -> None:
    assert twin.column.set_current_na(request_na) == rung
    assert twin.column.current_na() == rung


@pytest.mark.parametrize(
    ("request_na", "nearest"),
    [(2.5, "1.5 nA and 4 nA"), (0.5, "0.3 nA and 0.8 nA"), (13.7, "4 nA and 15 nA")],
)
def test_current_off_the_ladder_is_refused_naming_the_nearest_rungs(twin, request_na, nearest):
    before = twin.column.current_na()
    with pytest.raises(InstrumentError, match=nearest):
        twin.column.set_current_na(request_na)
    assert twin.column.current_na() == before


def test_current_change_costs_time_only_when_the_rung_changes(twin) -> None:
    switch_s = ColumnParameters().current_switch_time_s
    twin.column.set_current_na(15.0)
    assert twin.clock.now_s() == switch_s
    twin.column.set_current_na(15.2)  # same rung
    assert twin.clock.now_s() == switch_s
    twin.column.set_current_na(4.0)
    assert twin.clock.now_s() == 2 * switch_s


def test_voltage_change_costs_time_and_range_is_enforced(twin) -> None:
    twin.column.set_voltage_kv(30.0)
    assert twin.clock.now_s() == 0.0
    twin.column.set_voltage_kv(5.0)
    assert twin.column.voltage_kv() == 5.0
    assert twin.clock.now_s() == ColumnParameters().voltage_change_time_s
    with pytest.raises(InstrumentError, match="outside"):
        twin.column.set_voltage_kv(50.0)


def test_beam_shift_is_limited_to_the_deflector_range(twin) -> None:
    twin.column.set_beam_shift_um((1.5, -2.0))
    assert twin.column.beam_shift_um() == (1.5, -2.0)
    with pytest.raises(InstrumentError, match="deflector range"):
        twin.column.set_beam_shift_um((100.0, 0.0))


def test_autofocus_duration_is_the_sum_of_its_frames_and_settles(twin) -> None:
    p = ColumnParameters()
    width, height = p.autofocus_resolution_px
    line_flyback_s = TwinParameters().detector.line_flyback_s
    frame_s = width * height * p.autofocus_dwell_us * 1e-6 + height * line_flyback_s
    result = twin.column.autofocus()
    assert result.duration_s == pytest.approx(p.autofocus_frames * (frame_s + p.autofocus_settle_s))
    assert twin.clock.now_s() == pytest.approx(result.duration_s)


def test_autofocus_corrects_the_preset_wander_until_the_aperture_changes(twin) -> None:
    p = TwinParameters()
    twin.column.set_current_na(0.1)
    first = twin.column.autofocus()
    assert abs(first.defocus_after_um) <= 5 * p.column.autofocus_residual_um
    assert twin.column.defocus_um() == pytest.approx(first.defocus_after_um, abs=0.01)
    again = twin.column.autofocus()  # nothing drifted in between: it finds its own residual
    assert again.defocus_before_um == pytest.approx(first.defocus_after_um, abs=0.01)
    twin.column.set_current_na(0.8)  # new aperture: its presets, without the correction
    preset = twin.slow.focus_error_um(twin.clock.now_s())
    assert twin.column.defocus_um() == pytest.approx(preset)
    wander = []
    for _ in range(150):
        twin.clock.sleep(6 * 3600.0)
        wander.append(twin.column.autofocus().defocus_before_um)
        twin.column.set_current_na(0.1 if twin.column.current_na() == 0.8 else 0.8)
    assert np.std(wander) == pytest.approx(p.drift.focus_wander_um, rel=0.3)


def test_stage_move_time_is_the_slowest_axis_plus_settle(twin) -> None:
    p = StageParameters()
    twin.stage.move_to(StagePosition(x_um=100.0, rotation_deg=-20.0))
    expected = max(100.0 / p.xy_speed_um_per_s, 20.0 / p.rotation_speed_deg_per_s)
    assert twin.clock.now_s() == pytest.approx(expected + p.settle_time_s)
    assert twin.stage.position() == StagePosition(x_um=100.0, rotation_deg=-20.0)


def test_rocking_polish_rotation_costs_80_degrees_and_three_settles(twin) -> None:
    p = StageParameters()
    for angle in (-20.0, 20.0, 0.0):
        twin.stage.move_to(StagePosition(rotation_deg=angle))
    assert twin.clock.now_s() == pytest.approx(
        80.0 / p.rotation_speed_deg_per_s + 3 * p.settle_time_s
    )


def test_stage_rotation_goes_the_short_way_and_a_null_move_is_free(make_twin) -> None:
    slow = dataclasses.replace(StageParameters(), rotation_speed_deg_per_s=1.0)
    twin = make_twin(parameters=TwinParameters(stage=slow))
    twin.stage.move_to(StagePosition())
    assert twin.clock.now_s() == 0.0
    twin.stage.move_to(StagePosition(rotation_deg=350.0))
    assert twin.clock.now_s() == pytest.approx(10.0 + slow.settle_time_s)


def test_rotation_backlash_depends_on_the_approach_and_moves_scatter(twin) -> None:
    p = StageParameters()
    from_below, from_above = [], []
    for k in range(150):
        twin.column.set_current_na(15.0)  # a new face keys new scatter
        ready(twin, 15.0).column.mill(pattern(0.025 * (k + 1)))
        twin.stage.move_to(StagePosition(rotation_deg=-20.0))
        twin.stage.move_to(StagePosition())  # from below
        from_below.append(twin.state.rotation_error_deg)
        twin.stage.move_to(StagePosition(rotation_deg=20.0))
        twin.stage.move_to(StagePosition())  # from above
        from_above.append(twin.state.rotation_error_deg)
        assert twin.stage.position() == StagePosition()  # the encoders read the target
    gap = np.mean(from_above) - np.mean(from_below)
    assert gap == pytest.approx(p.rotation_backlash_deg, abs=0.01)
    assert np.std(from_below) == pytest.approx(p.rotation_repeatability_deg, rel=0.25)
    assert twin.stage.true_position().rotation_deg == pytest.approx(from_above[-1])


def test_stage_refuses_targets_outside_its_travel(twin) -> None:
    with pytest.raises(InstrumentError, match="tilt_deg"):
        twin.stage.move_to(StagePosition(tilt_deg=90.0))
    assert twin.clock.now_s() == 0.0
