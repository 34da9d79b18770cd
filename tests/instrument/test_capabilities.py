"""The capabilities a backend declares: checks and their JSON form."""

from __future__ import annotations

import pytest

from fibsims.instrument import Capabilities, ScanCapabilities

SCAN = ScanCapabilities((2048, 2048), 0.025, 25_000.0, dwell_step_us=0.025)
CAPS = Capabilities((0.1, 4.0, 15.0), 0.05, (2.0, 30.0), 2000.0, SCAN, SCAN)


def test_capabilities_survive_their_json_form():
    assert Capabilities.from_json(CAPS.to_json()) == CAPS
    presets = ScanCapabilities((1024, 768), 0.1, 100.0, preset_resolutions_px=((512, 384),))
    caps = Capabilities(
        (1.0,),
        0.05,
        (5.0, 30.0),
        500.0,
        presets,
        None,
        (-5.0, 50.0),
        stage_travel_um=((-1.0, 1.0), (-2.0, 2.0), (0.0, 3.0)),
        devices=("stage",),
    )
    assert Capabilities.from_json(caps.to_json()) == caps


def test_a_position_beyond_the_declared_travel_is_named_per_axis():
    caps = Capabilities(
        (1.0,), 0.05, (5.0, 30.0), 500.0, SCAN, stage_travel_um=((-10, 10), (-10, 10), (0, 5))
    )
    assert caps.stage_problems("sites.0.stage", 0.0, 0.0, 1.0) == []
    assert caps.stage_problems("sites.0.stage", 11.0, 0.0, -1.0) == [
        "sites.0.stage.x_um: 11 um is beyond the stage's travel -10 to 10 um",
        "sites.0.stage.z_um: -1 um is beyond the stage's travel 0 to 5 um",
    ]
    assert CAPS.stage_problems("x", 1e9, 0.0, 0.0) == [], "no travel declared: unchecked"


@pytest.mark.parametrize(
    "broken",
    [{}, {**CAPS.to_json(), "current_ladder_na": "many"}, {**CAPS.to_json(), "se_scan": None}],
    ids=["empty", "ladder-not-numbers", "no-se-scan"],
)
def test_malformed_capabilities_are_a_value_error(broken):
    with pytest.raises(ValueError, match="malformed capabilities"):
        Capabilities.from_json(broken)


def test_a_dwell_off_the_step_names_the_two_nearest_dwells():
    assert SCAN.dwell_problem(3.0) is None
    assert SCAN.dwell_problem(0.03) == (
        "dwell_us 0.03 is not a multiple of the scan generator's 0.025 us step; "
        "nearest: 0.025 or 0.05"
    )
    assert "outside the scan generator's 0.025 to 25000 us" in SCAN.dwell_problem(30_000.0)


def test_presets_are_the_only_resolutions_when_declared():
    presets = ScanCapabilities((1024, 768), 0.1, 100.0, preset_resolutions_px=((512, 384),))
    assert presets.resolution_problem((512, 384)) is None
    assert presets.resolution_problem((500, 384)) == (
        "resolution [500, 384] is not one of the presets: [512, 384]"
    )


def test_the_rung_a_request_selects_is_within_the_tolerance():
    assert CAPS.rung_for(14.5) == 15.0
    assert CAPS.rung_for(13.7) is None
    assert CAPS.nearest_currents_na(13.7) == [4.0, 15.0]
    assert CAPS.nearest_currents_na(100.0) == [15.0]


def test_beam_shift_rotation_and_stage_tolerances_survive_the_json_form():
    caps = Capabilities(
        (1.0,),
        0.05,
        (5.0, 30.0),
        500.0,
        SCAN,
        devices=("stage", "column", "se_detector", "vacuum"),
        beam_shift_range_um=50.0,
        stage_rotation_range_deg=(-180.0, 180.0),
        stage_tolerance_um=0.5,
        stage_tolerance_deg=0.01,
    )
    assert Capabilities.from_json(caps.to_json()) == caps
    assert caps.has("vacuum") and not caps.has("tof")


def test_an_older_declaration_without_the_new_fields_reads_as_undeclared():
    old = {k: v for k, v in CAPS.to_json().items() if not k.startswith(("beam_", "stage_tol"))}
    caps = Capabilities.from_json({**old, "stage_rotation_range_deg": None})
    assert caps.beam_shift_range_um is None and caps.stage_tolerance_um == 0.0
