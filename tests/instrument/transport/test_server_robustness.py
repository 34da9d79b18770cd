"""Malformed, oversized, unknown and wrong-version messages get typed error replies, and the
server keeps serving; a repeated call id is answered from the cache, never executed twice.
Parameters are strict (no bools for numbers, no NaN), and an acquisition whose reply could not
be sent is refused before the instrument runs it."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

import pytest

from fibsims.instrument import InstrumentOptions, Polarity, RasterRequest, ScanRequest
from fibsims.instrument.transport import LinkProtocolError, connect
from fibsims.instrument.transport.frames import ProtocolFault, encode
from fibsims.instrument.transport.protocol import Limits, Request
from fibsims.instrument.transport.replysize import check_raster

LIMITS = Limits(max_message_bytes=256 * 1024, max_header_bytes=128 * 1024, max_arrays=4)
PATTERN = {"kind": "box", "width_um": 1, "height_um": 1, "depth_um": 1, "front_z_um": 0.5}


@pytest.fixture
def raw(serve, factory, raw_connect) -> tuple[Any, Any, Any]:
    server = serve(factory, limits=LIMITS)
    return raw_connect(server.endpoint), server, factory


def _alive(client) -> None:
    reply = client.call("ping", f"ping-{time.monotonic_ns()}")
    assert reply.ok and reply.result["boot"]


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([b"not json at all"], "bad_request"),
        ([b"[" * 100_000], "bad_request"),
        ([b""], "bad_request"),
        ([b'{"v": 1, "id": "a"}'], "bad_request"),
        ([b'{"v": 99, "id": "a", "method": "ping"}'], "unsupported_version"),
        ([b'{"v": true, "id": "a", "method": "ping"}'], "unsupported_version"),
        ([b'{"v": 1.0, "id": "a", "method": "ping"}'], "unsupported_version"),
        ([b'{"v": "1", "id": "a", "method": "ping"}'], "unsupported_version"),
        ([b'{"v": 1, "id": "a", "method": "column.fire_laser"}'], "unknown_method"),
        ([b'{"v": 1, "id": "a", "method": "column.mill"}'], "no_session"),
        ([b"{" + b" " * 200_000 + b"}"], "too_large"),
        ([b'{"v": 1, "id": "a", "method": "ping"}', b"x" * 150_000, b"y" * 150_000], "too_large"),
        (
            [
                b'{"v": 1, "id": "a", "method": "ping", '
                b'"arrays": [{"dtype": "<f8", "shape": [2]}]}',
                b"1234",
            ],
            "bad_request",
        ),
    ],
)
def test_a_bad_message_gets_a_typed_error_and_the_server_keeps_serving(raw, frames, code):
    client, server, _ = raw
    client.send(*frames)
    reply = client.reply()
    assert not reply.ok and reply.error is not None and reply.error.code.value == code
    assert reply.error.message
    _alive(client)
    assert server.is_serving()


def test_bad_parameters_name_the_field(raw):
    client, _, _ = raw
    session = client.open()
    reply = client.call("column.set_current_na", "c-1", session, current_na="lots")
    assert reply.error is not None and reply.error.code.value == "bad_request"
    assert "current_na" in reply.error.message


def test_a_frame_beyond_maxmsgsize_drops_only_that_peer(raw, raw_connect):
    client, server, _ = raw
    client.send(b'{"v": 1, "id": "a", "method": "ping"}', b"z" * (LIMITS.max_message_bytes + 1))
    assert not client.sock.poll(300), "libzmq cuts the peer off; there is nothing to answer"
    _alive(raw_connect(server.endpoint))


def test_a_repeated_call_id_is_answered_from_the_cache_without_milling_again(raw):
    client, server, factory = raw
    session = client.open()
    client.call("column.unblank", "u-1", session)
    pattern = PATTERN
    first = client.call("column.mill", "m-1", session, pattern=pattern)
    again = client.call("column.mill", "m-1", session, pattern=pattern)
    assert first.ok and again.ok and not first.duplicate and again.duplicate
    assert again.result == first.result and again.clock_s == first.clock_s
    assert factory.script.calls["column.mill"] == 1
    stats = server.stats()
    assert stats["executed"]["column.mill"] == 1 and stats["duplicates_suppressed"] == 1


def test_a_repeat_that_arrives_while_the_call_runs_joins_it(raw):
    client, server, factory = raw
    session = client.open()
    factory.script.mill_wall_s = 0.3
    pattern = PATTERN
    request = encode(
        Request(v=1, id="m-2", method="column.mill", session=session, params={"pattern": pattern})
    )
    client.send(*request)
    time.sleep(0.05)
    client.send(*request)
    replies = [client.reply(), client.reply()]
    assert all(r.ok and r.id == "m-2" for r in replies)
    assert factory.script.calls["column.mill"] == 1
    assert server.stats()["duplicates_suppressed"] == 1


def test_heartbeats_are_answered_while_a_long_call_runs(raw):
    client, _, factory = raw
    session = client.open()
    factory.script.mill_wall_s = 0.5
    pattern = PATTERN
    client.send(
        *encode(
            Request(
                v=1, id="m-3", method="column.mill", session=session, params={"pattern": pattern}
            )
        )
    )
    time.sleep(0.05)
    started = time.monotonic()
    client.send(
        *encode(Request(v=1, id="p-2", method="ping", params={"session": session, "call": "m-3"}))
    )
    pong = client.reply()
    assert pong.id == "p-2" and pong.result["running"] is True
    assert time.monotonic() - started < 0.3, "the pong did not wait for the mill"
    assert client.reply().id == "m-3"


def test_the_stats_request_needs_no_session(raw):
    client, _, _ = raw
    reply = client.call("server.stats", "s-1")
    assert reply.ok and "executed" in reply.result and "duplicates_suppressed" in reply.result


def test_many_clients_at_once_are_all_served(raw, raw_connect):
    _, server, _ = raw
    errors: list[BaseException] = []

    def hammer(n: int) -> None:
        try:
            client = raw_connect(server.endpoint)
            session = client.open()
            for i in range(20):
                assert client.call("clock.now_s", f"t{n}-{i}", session).ok
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert json.dumps(server.stats())


NAN, INF = float("nan"), float("inf")
SCAN = {"resolution_px": [64, 64], "dwell_us": 1.0, "frames": 1, "field_width_um": 20.0}
POSITION = {"x_um": 0.0, "y_um": 0.0, "z_um": 0.0, "tilt_deg": 0.0, "rotation_deg": 0.0}


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("clock.sleep", {"seconds": NAN}, "seconds"),
        ("clock.sleep", {"seconds": INF}, "seconds"),
        ("clock.sleep", {"seconds": -1.0}, "seconds"),
        ("clock.sleep", {"seconds": True}, "seconds"),
        ("column.set_current_na", {"current_na": NAN}, "current_na"),
        ("column.set_current_na", {"current_na": "15"}, "current_na"),
        ("column.set_voltage_kv", {"voltage_kv": -INF}, "voltage_kv"),
        ("column.set_beam_shift_um", {"shift_um": [0.0, NAN]}, "shift_um"),
        ("stage.move_to", {"target": {**POSITION, "x_um": NAN}}, "x_um"),
        ("column.mill", {"pattern": {**PATTERN, "width_um": NAN}}, "width_um"),
        ("column.mill", {"pattern": {**PATTERN, "depth_um": INF}}, "depth_um"),
        ("se_detector.acquire_image", {"request": {**SCAN, "dwell_us": NAN}}, "dwell_us"),
        ("se_detector.acquire_image", {"request": {**SCAN, "frames": True}}, "frames"),
        ("se_detector.acquire_image", {"request": {**SCAN, "frames": 2.0}}, "frames"),
        (
            "se_detector.acquire_image",
            {"request": {**SCAN, "field_width_um": INF}},
            "field_width_um",
        ),
        ("costs.mill_s", {"pattern": PATTERN, "current_na": NAN}, "current_na"),
        ("costs.move_s", {"start": POSITION, "end": {**POSITION, "tilt_deg": INF}}, "tilt_deg"),
    ],
)
def test_non_finite_or_mistyped_parameters_are_bad_requests(raw, method, params, field):
    client, _, factory = raw
    session = client.open()
    reply = client.call(method, "p-1", session, **params)
    assert reply.error is not None and reply.error.code.value == "bad_request", reply
    assert field in reply.error.message
    assert factory.script.calls[method] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"seed": True}, "seed"), ({"start_time_s": NAN}, "start_time_s"), ({"seed": 1.0}, "seed")],
)
def test_a_session_is_not_opened_from_mistyped_options(raw, params, field):
    client, _, factory = raw
    reply = client.call("session.open", "o-1", **{"seed": 1, **params})
    assert reply.error is not None and reply.error.code.value == "bad_request"
    assert field in reply.error.message and not factory.opened


def _image(width: int, height: int) -> dict:
    return {"request": {**SCAN, "resolution_px": [width, height]}}


@pytest.mark.parametrize(
    ("method", "params", "code", "words"),
    [
        ("se_detector.acquire_image", _image(512, 512), "too_large", "262,144 bytes"),
        ("se_detector.acquire_image", _image(100_000, 1), "bad_request", "65536 px per side"),
        ("se_detector.acquire_image", _image(2**40, 2**40), "bad_request", "per side"),
        (
            "tof.acquire_raster",
            {"request": {"scan": SCAN, "polarity": "positive", "peaks": ["a"] * 8}},
            "too_large",
            "8 peaks and 1,000 spectrum samples",
        ),
    ],
)
def test_an_acquisition_whose_reply_cannot_fit_is_refused_before_it_runs(
    raw, method, params, code, words
):
    client, _, factory = raw
    session = client.open()
    reply = client.call(method, "a-1", session, **params)
    assert reply.error is not None and reply.error.code.value == code, reply
    assert words in reply.error.message
    assert factory.script.calls[method] == 0, "the instrument ran it anyway"


def test_acquisitions_that_fit_the_limit_still_run(raw):
    client, _, _ = raw
    session = client.open()
    assert client.call("se_detector.acquire_image", "i-1", session, **_image(128, 128)).ok
    raster = {"scan": SCAN, "polarity": "positive", "peaks": ["a"] * 4}
    assert client.call("tof.acquire_raster", "r-1", session, request=raster).ok


def test_without_a_cost_model_a_raster_reserves_room_for_a_large_spectrum(factory):
    instrument = factory(InstrumentOptions(seed=1))
    instrument.costs = None
    scan = ScanRequest(resolution_px=(8, 8), dwell_us=1.0, frames=1, field_width_um=5.0)
    with pytest.raises(ProtocolFault) as caught:
        check_raster(instrument, RasterRequest(scan, Polarity.POSITIVE, ("a",)), LIMITS)
    assert caught.value.code.value == "too_large" and "1,048,576 spectrum samples" in str(
        caught.value
    )


def test_results_still_carry_nan(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast)
    try:
        factory.opened[0][1].vacuum.pressure_pa = NAN  # a gauge that lost its signal
        assert instrument.vacuum is not None
        assert math.isnan(instrument.vacuum.chamber_pressure_pa())
    finally:
        instrument.close()


def test_the_client_refuses_a_non_finite_parameter_before_sending(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast)
    try:
        received = server.stats()["calls_received"]
        with pytest.raises(LinkProtocolError, match=r"clock\.sleep was not sent: seconds"):
            instrument.clock.sleep(NAN)
        with pytest.raises(LinkProtocolError, match="current_na"):
            instrument.column.set_current_na(True)
        assert server.stats()["calls_received"] == received
        assert instrument.link.lost is None, "a refused parameter does not end the link"
        instrument.clock.sleep(1.5)
    finally:
        instrument.close()
