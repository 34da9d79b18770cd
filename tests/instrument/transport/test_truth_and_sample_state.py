"""The ground truth's acquisition geometry and sample state cross the wire exactly, and a
session can be opened on a sample state (a resumed run). The state is JSON both ways: a
JSON object of finite numbers, bounded by the header limit, refused with a typed error
otherwise."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from tests.instrument.transport.conftest import GEOMETRY, SAMPLE_STATE

from fibsims.instrument import AcquisitionGeometry, InstrumentOptions
from fibsims.instrument.transport import LinkConfigError, LinkProtocolError, connect
from fibsims.instrument.transport.derived import METHODS
from fibsims.instrument.transport.jsonvalues import MAX_DEPTH
from fibsims.instrument.transport.protocol import Limits, OpenParams, WireModel

NAN, INF = float("nan"), float("inf")
SMALL = Limits(max_message_bytes=1024 * 1024, max_header_bytes=64 * 1024, max_arrays=8)


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def remote(serve, factory, fast):
    server = serve(factory, limits=SMALL)
    instrument = connect(server.endpoint, InstrumentOptions(seed=3), settings=fast)
    yield instrument, factory.opened[0][1], server
    instrument.close()


# -- last_geometry ---------------------------------------------------------------------------


def test_the_last_geometry_crosses_exactly(remote):
    instrument, local, _ = remote
    geometry = instrument.truth.last_geometry()
    assert geometry == GEOMETRY == local.truth.last_geometry()
    assert type(geometry) is AcquisitionGeometry
    assert type(geometry.drift_um) is tuple and type(geometry.field_center_um) is tuple
    assert math.copysign(1.0, geometry.defocus_um) == -1.0


def test_a_geometry_reading_may_carry_nan(remote):
    instrument, local, _ = remote
    local.truth.geometry = AcquisitionGeometry((NAN, 0.0, -INF), (1.0, INF), NAN, 0.5)
    geometry = instrument.truth.last_geometry()
    assert math.isnan(geometry.drift_um[0]) and geometry.drift_um[2] == -INF
    assert geometry.field_center_um == (1.0, INF) and math.isnan(geometry.face_z_um)


# -- sample_state (a result) -----------------------------------------------------------------


def test_the_sample_state_crosses_as_the_same_json(remote):
    instrument, local, _ = remote
    state = instrument.truth.sample_state()
    assert state == SAMPLE_STATE == local.truth.sample_state()
    assert list(state) == list(SAMPLE_STATE), "key order is kept"
    assert type(state["slices"]) is int and type(state["features"][0]["depth_um"]) is float
    assert math.copysign(1.0, state["features"][1]["rotation_deg"]) == -1.0


def test_a_backends_tuples_and_numpy_scalars_arrive_as_plain_json(remote):
    instrument, local, _ = remote
    local.truth.state = {
        "center_um": (1.5, np.float32(0.25)),
        "count": np.int64(7),
        "done": np.bool_(True),
        "deep": nested(MAX_DEPTH - 1),
    }
    state = instrument.truth.sample_state()
    assert state == {"center_um": [1.5, 0.25], "count": 7, "done": True, "deep": nested(63)}
    assert type(state["count"]) is int and type(state["done"]) is bool


@pytest.mark.parametrize(
    ("state", "words"),
    [
        (["not", "an", "object"], "must be a JSON object, got list"),
        ({"face": {"z_um": NAN}}, "face.z_um is nan"),
        ({"features": [{"depth": INF}]}, "features[0].depth is inf"),
        ({"cut": {1, 2}}, "cut is a set"),
        ({"map": np.zeros(3)}, "map is a ndarray"),
        ({"by_slice": {3: "x"}}, "by_slice has the key 3"),
        ({"deep": nested(MAX_DEPTH + 1)}, f"deeper than {MAX_DEPTH}"),
    ],
)
def test_a_state_that_is_not_a_json_object_is_a_server_error(remote, state, words):
    instrument, local, _ = remote
    local.truth.state = state
    with pytest.raises(LinkProtocolError, match=r"\[server_error\]") as caught:
        instrument.truth.sample_state()
    assert words in str(caught.value) and "truth.sample_state" in str(caught.value)
    assert instrument.link.lost is None
    local.truth.state = {"ok": 1}
    assert instrument.truth.sample_state() == {"ok": 1}


def test_a_state_beyond_the_header_limit_is_too_large_and_the_link_goes_on(remote):
    instrument, local, server = remote
    local.truth.state = {"features": ["x" * 1000] * 70}  # 70 kB of JSON, limit 64 KiB
    with pytest.raises(LinkProtocolError, match=r"\[too_large\].*header limit of 65,536"):
        instrument.truth.sample_state()
    assert server.stats()["errors"]["too_large"] == 1
    local.truth.state = {"features": ["x" * 1000] * 60}
    assert len(instrument.truth.sample_state()["features"]) == 60


def test_the_client_refuses_a_result_that_is_not_a_json_object():
    decode = METHODS["truth.sample_state"].decode
    assert decode({"a": [1]}, []) == {"a": [1]}
    for bad in ([1], "state", None, {"a": NAN}):
        with pytest.raises(ValueError):
            decode(bad, [])


def test_an_instrument_without_truth_has_no_truth_remotely(serve, factory, fast, raw_connect):
    def no_truth(options):
        instrument = factory(options)
        instrument.truth = None
        return instrument

    server = serve(no_truth)
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast)
    try:
        assert instrument.truth is None
    finally:
        instrument.close()
    client = raw_connect(server.endpoint)
    session = client.open()
    for method in ("truth.last_geometry", "truth.sample_state"):
        reply = client.call(method, f"{method}-1", session)
        assert reply.error is not None and reply.error.code.value == "instrument_error"
        assert "no ground truth" in reply.error.message


# -- sample_state (session.open) -------------------------------------------------------------


def test_a_session_opens_on_the_sample_state_of_the_last_one(serve, factory, fast):
    server = serve(factory)
    first = connect(server.endpoint, InstrumentOptions(seed=3), settings=fast)
    try:
        assert factory.opened[0][0].sample_state is None
        state = {**first.truth.sample_state(), "face_z_um": 0.45}
    finally:
        first.close()
    options = InstrumentOptions(seed=3, start_time_s=812.5, sample_state=state)
    resumed = connect(server.endpoint, options, settings=fast)
    try:
        assert factory.opened[1][0] == options
        assert resumed.truth.sample_state() == state
    finally:
        resumed.close()


def test_no_sample_state_is_left_out_of_the_message_so_older_servers_accept_it():
    assert "sample_state" not in OpenParams(seed=1).model_dump(mode="json")
    assert "sample_state" not in OpenParams(seed=1, sample_state=None).model_dump_json()
    assert OpenParams(seed=1, sample_state={}).model_dump(mode="json")["sample_state"] == {}
    assert OpenParams.model_validate({"seed": 1}).sample_state is None


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ([1, 2], "must be a JSON object, got list"),
        ("state", "must be a JSON object, got str"),
        (5, "must be a JSON object, got int"),
        ({"face_z_um": NAN}, "face_z_um is nan"),
        ({"a": [{"b": -INF}]}, "a[0].b is -inf"),
        ({"deep": nested(MAX_DEPTH + 5)}, "deeper than"),
    ],
)
def test_a_session_is_not_opened_on_a_sample_state_that_is_not_a_json_object(
    serve, factory, raw_connect, state, words
):
    client = raw_connect(serve(factory).endpoint)
    reply = client.call("session.open", "o-1", seed=1, sample_state=state)
    assert reply.error is not None and reply.error.code.value == "bad_request"
    assert "sample_state" in reply.error.message and words in reply.error.message
    assert not factory.opened


def test_the_client_refuses_a_bad_or_oversized_sample_state_before_sending(serve, factory, fast):
    server = serve(factory)
    bad = InstrumentOptions(seed=1, sample_state={"face_z_um": NAN})
    with pytest.raises(LinkConfigError, match=r"sample_state.*face_z_um is nan"):
        connect(server.endpoint, bad, settings=fast)
    huge = InstrumentOptions(seed=1, sample_state={"features": ["x" * 1000] * 1100})
    with pytest.raises(LinkConfigError, match=r"header limit of 1,048,576.*sample_state 1,1"):
        connect(server.endpoint, huge, settings=fast)
    assert server.stats()["calls_received"] == 0 and not factory.opened


class Blob(WireModel):
    blob: str


def test_the_link_never_sends_a_header_the_server_would_refuse_unread(remote):
    instrument, _, server = remote
    received = server.stats()["calls_received"]
    with pytest.raises(LinkProtocolError, match=r"clock\.now_s was not sent: its header"):
        instrument.link.call("clock.now_s", Blob(blob="x" * 1_100_000), idempotent=True)
    assert server.stats()["calls_received"] == received and instrument.link.lost is None
