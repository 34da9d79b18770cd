"""Members added within version 1 cross the wire like the others: a pattern's ``rotation_deg``
and the SE detector's contrast and brightness. Reads are executed again, settings are
de-duplicated, a mistyped, non-finite or out-of-range parameter is a bad request (refused by
the client before sending, too), and a pattern written before ``rotation_deg`` existed still
decodes, unrotated."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fibsims.instrument import InstrumentOptions, MillPattern, PatternKind, StagePosition
from fibsims.instrument.transport import LinkProtocolError, connect
from fibsims.instrument.transport.derived import METHODS, load, wire_type
from fibsims.instrument.transport.protocol import Limits, WireModel
from fibsims.instrument.transport.scalars import Finite

MILL = METHODS["column.mill"]

NAN, INF = float("nan"), float("inf")
OLD_PATTERN = {"kind": "box", "width_um": 1, "height_um": 2, "depth_um": 3, "front_z_um": 0.5}
ROTATED = MillPattern(PatternKind.BOX, 4.0, 1.0, 0.5, front_z_um=0.2, rotation_deg=37.5)


@pytest.fixture
def remote(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, InstrumentOptions(seed=3), settings=fast)
    yield instrument, factory, server
    instrument.close()


@pytest.fixture
def raw(serve, factory, raw_connect):
    server = serve(factory, limits=Limits())
    client = raw_connect(server.endpoint)
    return client, client.open(), server, factory


# -- rotation_deg ----------------------------------------------------------------------------


def test_a_rotated_pattern_reaches_the_instrument_and_its_cost_model(remote):
    instrument, factory, _ = remote
    local = factory.opened[0][1]
    instrument.column.unblank()
    instrument.column.mill(ROTATED)
    assert local.column.patterns == [ROTATED]
    assert instrument.costs.mill_s(ROTATED, 4.0) == local.costs.mill_s(ROTATED, 4.0)
    unrotated = MillPattern(PatternKind.BOX, 4.0, 1.0, 0.5, front_z_um=0.2)
    assert instrument.costs.mill_s(ROTATED, 4.0) != instrument.costs.mill_s(unrotated, 4.0)


def test_the_stage_a_cost_is_asked_at_reaches_the_remote_cost_model(remote):
    instrument, factory, _ = remote
    local = factory.opened[0][1]
    tilted = StagePosition(tilt_deg=30.0)
    assert instrument.costs.mill_s(ROTATED, 4.0, tilted) == local.costs.mill_s(ROTATED, 4.0, tilted)
    assert instrument.costs.mill_s(ROTATED, 4.0, tilted) != instrument.costs.mill_s(ROTATED, 4.0)


def test_a_pattern_sent_without_rotation_deg_decodes_unrotated(raw):
    client, session, _, factory = raw
    assert client.call("column.mill", "m-1", session, pattern=OLD_PATTERN).ok
    reply = client.call("costs.mill_s", "c-1", session, pattern=OLD_PATTERN, current_na=4.0)
    assert reply.ok and reply.result == factory.opened[0][1].costs.mill_s(
        MillPattern(PatternKind.BOX, 1.0, 2.0, 3.0, front_z_um=0.5), 4.0
    )
    milled = factory.opened[0][1].column.patterns
    assert milled == [MillPattern(PatternKind.BOX, 1.0, 2.0, 3.0, front_z_um=0.5)]
    assert milled[0].rotation_deg == 0.0 and math.copysign(1.0, milled[0].rotation_deg) == 1.0
    pattern_model = wire_type(MillPattern, True)
    assert load(pattern_model.model_validate(OLD_PATTERN), []) == milled[0]


class PatternBeforeRotationW(WireModel):
    """The pattern's wire model as a peer built before rotation_deg existed has it."""

    kind: PatternKind
    width_um: Finite
    height_um: Finite
    depth_um: Finite
    front_z_um: Finite
    center_x_um: Finite = 0.0
    center_y_um: Finite = 0.0


@pytest.mark.parametrize(("rotation", "sent"), [(0.0, False), (-0.0, True), (37.5, True)])
def test_rotation_deg_is_left_out_at_zero_so_older_peers_accept_the_message(rotation, sent):
    pattern = MillPattern(PatternKind.BOX, 1.0, 2.0, 3.0, front_z_um=0.5, rotation_deg=rotation)
    params = MILL.build({"pattern": pattern})
    wire = params.model_dump(mode="json")["pattern"]
    assert ("rotation_deg" in wire) == sent
    decoded = MILL.arguments(MILL.params.model_validate_json(params.model_dump_json()))["pattern"]
    assert decoded == pattern and math.copysign(1.0, decoded.rotation_deg) == math.copysign(
        1.0, rotation
    )
    if not sent:  # what an older server sees: a pattern it knows
        PatternBeforeRotationW.model_validate(wire)


# -- contrast and brightness -----------------------------------------------------------------


def test_contrast_and_brightness_round_trip(remote):
    instrument, factory, _ = remote
    detector, local = instrument.se_detector, factory.opened[0][1].se_detector
    assert (detector.contrast(), detector.brightness()) == (0.5, 0.5)
    detector.set_contrast(1.0)
    detector.set_brightness(1 / 3)
    assert local.settings == {"contrast": 1.0, "brightness": 1 / 3}
    assert (detector.contrast(), detector.brightness()) == (1.0, 1 / 3)
    detector.set_contrast(0)
    assert detector.contrast() == 0.0 and type(detector.contrast()) is float


def test_settings_are_cached_against_retries_and_reads_are_executed_again(raw):
    client, session, server, factory = raw
    for method, params in (
        ("se_detector.set_contrast", {"value": 0.25}),
        ("se_detector.set_brightness", {"value": 0.75}),
    ):
        first = client.call(method, f"{method}-1", session, **params)
        again = client.call(method, f"{method}-1", session, **params)
        assert first.ok and again.ok and again.duplicate and not first.duplicate
        assert factory.script.calls[method] == 1
    for method in ("se_detector.contrast", "se_detector.brightness"):
        replies = [client.call(method, f"{method}-1", session) for _ in range(2)]
        assert [r.duplicate for r in replies] == [False, False]
        assert factory.script.calls[method] == 2
    assert replies[0].result == 0.75
    assert server.stats()["duplicates_suppressed"] == 2


def test_the_method_table_marks_reads_idempotent_and_settings_not():
    reads = ("se_detector.contrast", "se_detector.brightness")
    reads += ("truth.last_geometry", "truth.sample_state")
    for name in reads:
        assert METHODS[name].idempotent, name
    for name in ("se_detector.set_contrast", "se_detector.set_brightness"):
        assert not METHODS[name].idempotent, name


PATTERN = {**OLD_PATTERN, "rotation_deg": 30.0}


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("se_detector.set_contrast", {"value": NAN}, "value"),
        ("se_detector.set_contrast", {"value": INF}, "value"),
        ("se_detector.set_contrast", {"value": True}, "value"),
        ("se_detector.set_contrast", {"value": "0.5"}, "value"),
        ("se_detector.set_contrast", {"value": 1.5}, "value"),
        ("se_detector.set_contrast", {"value": None}, "value"),
        ("se_detector.set_contrast", {}, "value"),
        ("se_detector.set_contrast", {"value": 0.5, "gain": 1}, "gain"),
        ("se_detector.set_brightness", {"value": -INF}, "value"),
        ("se_detector.set_brightness", {"value": -0.01}, "value"),
        ("se_detector.set_brightness", {"value": [0.5]}, "value"),
        ("column.mill", {"pattern": {**PATTERN, "rotation_deg": NAN}}, "rotation_deg"),
        ("column.mill", {"pattern": {**PATTERN, "rotation_deg": INF}}, "rotation_deg"),
        ("column.mill", {"pattern": {**PATTERN, "rotation_deg": "30"}}, "rotation_deg"),
        ("column.mill", {"pattern": {**PATTERN, "rotation_deg": False}}, "rotation_deg"),
        ("column.mill", {"pattern": {**PATTERN, "rotation_deg": None}}, "rotation_deg"),
        (
            "costs.mill_s",
            {"pattern": {**PATTERN, "rotation_deg": -INF}, "current_na": 1.0},
            "rotation_deg",
        ),
    ],
)
def test_a_mistyped_or_non_finite_parameter_is_a_bad_request(raw, method, params, field):
    client, session, _, factory = raw
    reply = client.call(method, "bad-1", session, **params)
    assert reply.error is not None and reply.error.code.value == "bad_request", reply
    assert field in reply.error.message
    assert factory.script.calls[method] == 0


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda i: i.se_detector.set_contrast(NAN), r"se_detector\.set_contrast was not sent"),
        (lambda i: i.se_detector.set_contrast(True), "value"),
        (lambda i: i.se_detector.set_brightness(1.0000001), "less than or equal to 1"),
        (lambda i: i.se_detector.set_brightness(-1), "greater than or equal to 0"),
        (
            lambda i: i.column.mill(
                MillPattern(PatternKind.BOX, 1.0, 1.0, 1.0, front_z_um=0.1, rotation_deg=NAN)
            ),
            "rotation_deg",
        ),
    ],
)
def test_the_client_refuses_a_bad_parameter_before_sending(remote, call: Any, words: str):
    instrument, _, server = remote
    received = server.stats()["calls_received"]
    with pytest.raises(LinkProtocolError, match=words):
        call(instrument)
    assert server.stats()["calls_received"] == received
    assert instrument.link.lost is None
