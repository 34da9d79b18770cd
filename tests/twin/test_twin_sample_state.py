"""The sample state: taken at a slice boundary, a fresh twin opened from it repeats the bytes."""

from __future__ import annotations

import copy
import dataclasses
import json
import math

import pytest

from fibsims.instrument import (
    InstrumentError,
    InstrumentOptions,
    MillPattern,
    PatternKind,
    ScanRequest,
)
from fibsims_twin.factory import create_instrument
from fibsims_twin.materials import Material

SEED = 21
SLICES = 6
SNAPSHOT_AT = 3
FIDUCIAL = (  # a box (z 0.1..0.9 um) and an angled line, crossed by the faces of slices 2..5
    MillPattern(PatternKind.BOX, 1.0, 0.8, 3.0, 0.9, center_x_um=7.0, center_y_um=-4.0),
    MillPattern(PatternKind.BOX, 0.2, 1.5, 3.0, 1.6, 7.0, -4.0, rotation_deg=35.0),
)


def deep_raster(kit):
    """A raster that sputters ~52 nm, as the default one: it outruns the 25 nm cuts."""
    return dataclasses.replace(
        kit.SMALL_RASTER, scan=dataclasses.replace(kit.SMALL_RASTER.scan, field_width_um=5.0)
    )


def closed_loop_slice(twin, kit, index: int) -> list:
    """A slice as a drift-correcting engine might run it: a look at the old face, the cut and
    polish, the beam shift set to follow the drift, an image, a SIMS raster that outruns the
    cuts; slice 0 also mills the fiducial and turns the SE contrast up. Returns every product
    and the truth and geometry of each acquisition."""
    column, products = twin.column, []

    def acquire(action) -> None:
        products.append(action())
        products.append(twin.truth.last_geometry())

    column.set_current_na(0.1)
    column.unblank()
    acquire(lambda: twin.se_detector.acquire_image(kit.SMALL_IMAGE))  # same face as last raster
    column.blank()
    if index == 0:
        column.set_current_na(4.0)
        column.unblank()
        for pattern in FIDUCIAL:
            column.mill(pattern)
        twin.se_detector.set_contrast(0.6)
        twin.se_detector.set_brightness(0.52)
    kit.mill_slice(twin, index)
    drift = twin.slow.drift_um(twin.clock.now_s())
    column.set_beam_shift_um((float(drift[0]), float(drift[1])))
    column.set_current_na(0.1)
    if index % 2 == 0:
        column.unblank()
        column.autofocus()
    column.unblank()
    acquire(lambda: twin.se_detector.acquire_image(ScanRequest((256, 192), 3.0, 2, 20.0)))
    products.append(twin.truth.last_image_truth())
    column.set_current_na(0.8)
    acquire(lambda: twin.tof.acquire_raster(deep_raster(kit)))
    products.append(twin.truth.last_raster_truth())
    column.blank()
    return products


def assert_same(expected: list, got: list) -> None:
    assert len(expected) == len(got)
    for e, g in zip(expected, got, strict=True):
        if isinstance(e, dict):
            assert e.keys() == g.keys()
            for key in e:
                assert e[key].tobytes() == g[key].tobytes(), key
        elif hasattr(e, "pixels"):
            assert e.pixels.tobytes() == g.pixels.tobytes()
            assert e.saturated_fraction == g.saturated_fraction
        elif hasattr(e, "count_maps"):
            assert e.count_maps.tobytes() == g.count_maps.tobytes()
            assert e.spectrum.counts.tobytes() == g.spectrum.counts.tobytes()
            assert e.saturated_lines.tobytes() == g.saturated_lines.tobytes()
        else:
            assert e == g  # an AcquisitionGeometry


@pytest.fixture(scope="module")
def run(kit):
    """SLICES slices of one twin, with the sample state (as JSON) and time at SNAPSHOT_AT."""
    twin = create_instrument(InstrumentOptions(seed=SEED, sample=kit.SAMPLE))
    slices, snapshot = [], None
    for index in range(SLICES):
        if index == SNAPSHOT_AT:
            snapshot = (twin.clock.now_s(), json.dumps(twin.truth.sample_state()))
        slices.append(closed_loop_slice(twin, kit, index))
    return slices, snapshot, twin


def resume(kit, snapshot, **changes):
    time_s, state = snapshot
    options = InstrumentOptions(
        seed=SEED, sample=kit.SAMPLE, start_time_s=time_s, sample_state=json.loads(state)
    )
    return create_instrument(dataclasses.replace(options, **changes))


def test_a_twin_opened_from_the_sample_state_repeats_every_byte_of_the_uninterrupted_run(
    kit, run
) -> None:
    slices, snapshot, uninterrupted = run
    state = json.loads(snapshot[1])
    assert len(state["features"]) == len(FIDUCIAL)  # the run exercised what the state carries
    assert state["instrument"]["se_contrast"] == 0.6 and state["instrument"]["beam_shift_um"]
    face = state["face"]
    assert face["true_z_um"] - face["nominal_z_um"] > 0.05  # the rasters outran the cuts
    resumed = resume(kit, snapshot)
    assert resumed.column.is_blanked()  # a session opens safe, whatever the state
    for index in range(SNAPSHOT_AT, SLICES):
        assert_same(slices[index], closed_loop_slice(resumed, kit, index))
        assert (slices[index][4]["labels"] == Material.VACUUM).any()  # the fiducial shows
    assert resumed.truth.sample_state() == uninterrupted.truth.sample_state()


def test_the_random_counters_in_the_state_make_a_look_at_the_same_face_repeat(kit, run) -> None:
    slices, snapshot, _ = run
    time_s, state = snapshot
    forgetful = json.loads(state)
    forgetful["random_counters"] = {}
    twin = resume(kit, (time_s, json.dumps(forgetful)))
    twin.column.set_current_na(0.1)
    twin.column.unblank()
    look = twin.se_detector.acquire_image(kit.SMALL_IMAGE)
    # the uninterrupted run had already drawn an image at this face: counters matter
    assert look.pixels.tobytes() != slices[SNAPSHOT_AT][0].pixels.tobytes()


def test_the_sample_state_is_plain_json(kit, run) -> None:
    *_, twin = run
    state = twin.truth.sample_state()
    assert json.loads(json.dumps(state)) == {
        key: json.loads(json.dumps(value)) for key, value in state.items()
    }
    assert json.loads(json.dumps(state, allow_nan=False)) is not None


def _set(path: str, value):
    def change(state: dict) -> None:
        *parents, last = path.split(".")
        target = state
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


def _bad_counter(state: dict) -> None:
    state["random_counters"]["tof.raster"] = [1, -1]  # a stream name holds a dot


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("face.true_z_um", math.nan), r"sample_state\.face\.true_z_um"),
        (_set("face.true_z_um", KeyError), r"sample_state\.face lacks true_z_um"),
        (_set("face.extra", 1.0), r"sample_state\.face has unknown keys extra"),
        (_set("sample.seed", 812), r"sample_state\.sample\.seed .*another sample"),
        (_set("sample.run_seed", 1), r"sample_state\.sample\.run_seed"),
        (_set("features.0.width_um", -1.0), r"features\[0\]\.width_um .*positive"),
        (_set("features", "box"), r"sample_state\.features must be a list"),
        (_set("instrument.se_contrast", 1.5), r"instrument\.se_contrast .*outside 0\.\.1"),
        (_set("instrument.current_na", 0.7), r"instrument\.current_na .*ladder"),
        (_set("instrument.beam_shift_um", [1.0]), r"instrument\.beam_shift_um"),
        (_set("curtain.polish_rotations_deg", [0.0, "x"]), r"polish_rotations_deg\[1\]"),
        (_bad_counter, r"random_counters\.tof\.raster"),
        (_set("version", 99), r"this twin reads"),
        (_set("taken_at_s", 1e12), r"taken_at_s .*after the session's start_time_s"),
    ],
)
def test_a_malformed_sample_state_is_refused_naming_what_is_wrong(
    kit, run, change, message
) -> None:
    _, snapshot, _ = run
    state = json.loads(snapshot[1])
    change(state)
    with pytest.raises(InstrumentError, match=message):
        resume(kit, (snapshot[0], json.dumps(state)))


@pytest.mark.parametrize("bad", [[], "state", 3])
def test_a_sample_state_that_is_not_a_mapping_is_refused(kit, run, bad) -> None:
    _, snapshot, _ = run
    with pytest.raises(InstrumentError, match="sample_state must be a mapping"):
        resume(kit, snapshot, sample_state=bad)


def test_a_later_session_may_open_from_an_earlier_state(kit, run) -> None:
    _, snapshot, _ = run
    twin = resume(kit, snapshot, start_time_s=snapshot[0] + 600.0)
    state = copy.deepcopy(json.loads(snapshot[1]))
    assert twin.state.sample_face_z_um == state["face"]["true_z_um"]
    assert len(twin.state.features) == len(FIDUCIAL)
    assert twin.se_detector.contrast() == 0.6 and twin.se_detector.brightness() == 0.52
