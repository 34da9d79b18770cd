"""Beam-face geometry: stage tilt acts through the angular yields, rocking through the walls'."""

from __future__ import annotations

import dataclasses
import math

import pytest

from fibsims.instrument import MillPattern, PatternKind, ScanRequest
from fibsims_twin.detector import se_incidence_factor
from fibsims_twin.geometry import (
    curtain_wall_incidence_deg,
    mill_incidence_deg,
    scan_incidence_deg,
)
from fibsims_twin.milling import rocking_removal
from fibsims_twin.parameters import IncidenceParameters, TwinParameters
from fibsims_twin.sputtering import SputterModel

P = TwinParameters()
NMC = SputterModel(P.column, P.materials).nmc
CUT = MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20.0, 0.5, 16.0, 0.025)
IMAGE = ScanRequest((96, 64), 3.0, 2, 10.0)


def tilted(twin, tilt_deg: float):
    twin.stage.move_to(dataclasses.replace(twin.stage.position(), tilt_deg=tilt_deg))
    return twin


def test_incidence_of_each_step_follows_the_stage_pose() -> None:
    from fibsims.instrument import StagePosition

    pose = StagePosition(tilt_deg=-25.0, rotation_deg=20.0)
    assert mill_incidence_deg(pose) == 25.0 and scan_incidence_deg(pose) == 25.0
    assert curtain_wall_incidence_deg(20.0) == 70.0 and curtain_wall_incidence_deg(-5.0) == 85.0
    assert curtain_wall_incidence_deg(0.0) == 90.0  # the beam runs along the stripes


def test_se_yield_follows_the_secant_law() -> None:
    p = IncidenceParameters()
    assert se_incidence_factor(0.0, p) == 1.0
    assert se_incidence_factor(30.0, p) == pytest.approx(1 / math.cos(math.radians(30.0)))
    assert se_incidence_factor(-60.0, p) == pytest.approx(2.0)
    assert se_incidence_factor(89.0, p) == se_incidence_factor(p.se_yield_max_incidence_deg, p)


def test_stage_tilt_shortens_the_pattern_time_as_the_angular_yield_says(make_twin) -> None:
    flat, steep = make_twin(), tilted(make_twin(), 30.0)
    times = []
    for twin in (flat, steep):
        twin.column.set_current_na(15.0)
        twin.column.unblank()
        assert twin.costs.mill_s(CUT, 15.0) == pytest.approx(
            twin.column.mill(CUT).duration_s
        )  # the estimate still is the time taken
        times.append(twin.column.mill(CUT).duration_s)
    assert times[0] == pytest.approx(160.0 / (0.34 * 15.0))  # 31.37 s, docs/physics.md
    assert times[0] / times[1] == pytest.approx(NMC.ratio(30.0))  # 1.204


def test_stage_tilt_brightens_the_se_image_by_the_secant_law(make_twin, kit) -> None:
    counts = []
    for tilt in (0.0, 45.0):
        twin = tilted(make_twin(seed=3, parameters=kit.quiet_parameters()), tilt)
        twin.column.unblank()
        counts.append(twin.se_detector.expected_counts(IMAGE))
    ratio = counts[1].sum() / counts[0].sum()
    assert ratio == pytest.approx(1 / math.cos(math.radians(45.0)), rel=1e-5)


def test_stage_tilt_deepens_what_a_scan_sputters(make_twin, kit) -> None:
    depths = []
    for tilt in (0.0, 60.0):
        twin = tilted(make_twin(parameters=kit.quiet_parameters()), tilt)
        twin.column.unblank()
        before = twin.state.sample_face_z_um
        twin.se_detector.acquire_image(IMAGE)
        depths.append(twin.state.sample_face_z_um - before)
        assert twin.costs.sputter_depth_um(IMAGE, 0.1) == pytest.approx(depths[-1], rel=0.02)
    assert depths[1] / depths[0] == pytest.approx(NMC.ratio(60.0))  # 2.25


def test_rocking_removes_curtains_as_the_stripe_walls_sputter() -> None:
    m = P.milling
    assert rocking_removal(0.0, m, NMC) == 0.0  # along the stripes: grazing, no yield
    full = NMC.ratio(90.0 - m.rocking_saturation_deg)
    assert rocking_removal(5.0, m, NMC) == pytest.approx(
        m.rocking_removal_max * NMC.ratio(85.0) / full
    )
    assert rocking_removal(5.0, m, NMC) == pytest.approx(0.28, abs=0.01)  # docs/physics.md
    shares = [rocking_removal(angle, m, NMC) for angle in (3.0, 5.0, 8.0)]
    assert shares == sorted(shares) and shares[0] < shares[-1]
    assert rocking_removal(-20.0, m, NMC) == m.rocking_removal_max  # the default polish


def test_stage_tilt_deepens_a_sims_raster_and_raises_its_counts(make_twin, kit) -> None:
    from fibsims.instrument import Polarity, RasterRequest

    request = RasterRequest(ScanRequest((64, 64), 50.0, 2, 20.0), Polarity.POSITIVE, ("7Li+",))
    depths, counts = [], []
    for tilt in (0.0, 60.0):
        twin = tilted(make_twin(parameters=kit.quiet_parameters()), tilt)
        twin.column.set_current_na(0.03)
        twin.column.unblank()
        before = twin.state.sample_face_z_um
        result = twin.tof.acquire_raster(request)
        depths.append(twin.state.sample_face_z_um - before)
        counts.append(float(result.count_maps.sum()))
    # the raster erodes the face and sputters atoms by the angular yield of the scan incidence
    assert depths[1] / depths[0] == pytest.approx(NMC.ratio(60.0), rel=1e-6)
    assert counts[1] / counts[0] == pytest.approx(NMC.ratio(60.0), rel=0.1)
