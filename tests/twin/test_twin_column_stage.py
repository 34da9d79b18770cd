"""Column and stage: milling time and face position, the current ladder, focus, stage moves."""

from __future__ import annotations

import dataclasses

import pytest

from fibsims.instrument import InstrumentError, MillPattern, PatternKind, StagePosition
from fibsims_twin.parameters import ColumnParameters, StageParameters, TwinParameters

CCS = PatternKind.CLEANING_CROSS_SECTION
YV_UM3_PER_NC = 0.4  # physics.md, the value the twin mills NMC811 with


def pattern(front_z_um: float, width: float = 20.0, along_z: float = 0.5, depth: float = 18.0):
    return MillPattern(CCS, width, along_z, depth, front_z_um)


def ready(twin, current_na: float):
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    return twin


@pytest.mark.parametrize("current_na", [4.0, 15.0, 60.0])
def test_mill_time_is_volume_over_volume_per_dose_times_current(twin, current_na) -> None:
    ready(twin, current_na)
    result = twin.column.mill(pattern(0.025))
    assert result.duration_s == pytest.approx(20 * 0.5 * 18 / (YV_UM3_PER_NC * current_na))
    doubled = twin.column.mill(pattern(0.05, along_z=1.0))
    assert doubled.duration_s == pytest.approx(2 * result.duration_s)


def test_default_slice_cut_takes_30_s_at_15_na(twin) -> None:
    assert ready(twin, 15.0).column.mill(pattern(0.025)).duration_s == pytest.approx(30.0)


def test_mill_advances_the_clock_by_its_duration_and_delivers_the_dose(twin) -> None:
    ready(twin, 15.0)
    before = twin.clock.now_s()
    result = twin.column.mill(pattern(0.025))
    assert twin.clock.now_s() - before == pytest.approx(result.duration_s)
    # the source fluctuates by 0.5 % (1 sigma) around I * t
    assert result.dose_nc == pytest.approx(15.0 * result.duration_s, rel=0.03)
    assert result.current_na == 15.0


def test_mill_moves_the_face_to_the_pattern_front(twin) -> None:
    ready(twin, 15.0)
    assert twin.column.mill(pattern(0.025)).face_z_um == 0.025
    assert twin.column.mill(pattern(0.05)).face_z_um == 0.05
    assert twin.state.face_z_um == 0.05


def test_pattern_behind_the_face_removes_nothing_but_costs_time(twin) -> None:
    ready(twin, 4.0)
    twin.column.mill(pattern(0.5))
    before = twin.clock.now_s()
    result = twin.column.mill(pattern(0.3, along_z=0.1))
    assert result.face_z_um == 0.5
    assert twin.clock.now_s() - before == pytest.approx(20 * 0.1 * 18 / (YV_UM3_PER_NC * 4.0))


def test_a_fresh_twin_takes_the_first_pattern_front_as_its_face(twin) -> None:
    # resuming at slice 200: the new process's face starts at 0, the sample is at 5 um
    ready(twin, 15.0)
    assert twin.column.mill(pattern(5.025)).face_z_um == 5.025


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


@pytest.mark.parametrize(("request_na", "rung"), [(0.105, 0.1), (0.88, 0.8), (14.0, 15.0)])
def test_current_within_ten_percent_selects_the_rung(twin, request_na, rung) -> None:
    assert twin.column.set_current_na(request_na) == rung
    assert twin.column.current_na() == rung


@pytest.mark.parametrize(
    ("request_na", "nearest"),
    [(2.5, "1.5 nA and 4 nA"), (0.5, "0.3 nA and 0.8 nA"), (0.72, "0.3 nA and 0.8 nA")],
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


def test_autofocus_leaves_a_residual_and_defocus_walks_with_time(twin) -> None:
    p = ColumnParameters()
    first = twin.column.autofocus()
    assert abs(first.defocus_after_um) <= 5 * p.autofocus_residual_um
    immediately = twin.column.autofocus()  # no time for a walk: the error is what was left
    assert immediately.defocus_before_um == pytest.approx(first.defocus_after_um)
    walks = []
    for _ in range(40):
        twin.clock.sleep(4 * 3600.0)
        focus = twin.column.autofocus()
        walks.append(focus.defocus_before_um - immediately.defocus_after_um)
        immediately = focus
    spread = (sum(w * w for w in walks) / len(walks)) ** 0.5
    assert spread == pytest.approx(p.defocus_walk_um_per_sqrt_h * 2.0, rel=0.4)  # sqrt(4 h)


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


def test_stage_refuses_targets_outside_its_travel(twin) -> None:
    with pytest.raises(InstrumentError, match="tilt_deg"):
        twin.stage.move_to(StagePosition(tilt_deg=90.0))
    assert twin.clock.now_s() == 0.0
