"""Malformed, oversized, unknown and wrong-version messages get typed error replies, and the
server keeps serving; a repeated call id is answered from the cache, never executed twice."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import zmq

from fibsims.instrument.transport.frames import decode, encode
from fibsims.instrument.transport.protocol import Limits, Reply, Request

LIMITS = Limits(max_message_bytes=256 * 1024, max_header_bytes=128 * 1024, max_arrays=4)


class Raw:
    """A bare DEALER socket speaking the protocol by hand."""

    def __init__(self, context: zmq.Context[Any], endpoint: str) -> None:
        self.sock = context.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)

    def send(self, *frames: bytes) -> None:
        self.sock.send_multipart(list(frames))

    def reply(self, timeout_s: float = 2.0) -> Reply:
        assert self.sock.poll(int(timeout_s * 1000)), "no reply"
        reply, _ = decode(self.sock.recv_multipart(), Reply, Limits())
        return reply

    def call(
        self, method: str, request_id: str, session: str | None = None, **params: Any
    ) -> Reply:
        self.send(
            *encode(Request(v=1, id=request_id, method=method, session=session, params=params))
        )
        return self.reply()

    def open(self) -> str:
        reply = self.call("session.open", "open-1", seed=1)
        assert reply.ok, reply.error
        return str(reply.result["session"])


@pytest.fixture
def raw(serve, factory) -> Iterator[tuple[Raw, Any, Any]]:
    server = serve(factory, limits=LIMITS)
    context: zmq.Context[Any] = zmq.Context()
    yield Raw(context, server.endpoint), server, factory
    context.destroy(linger=0)


def _alive(client: Raw) -> None:
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


def test_a_frame_beyond_maxmsgsize_drops_only_that_peer(raw, serve):
    client, server, _ = raw
    client.send(b'{"v": 1, "id": "a", "method": "ping"}', b"z" * (LIMITS.max_message_bytes + 1))
    assert not client.sock.poll(300), "libzmq cuts the peer off; there is nothing to answer"
    other = Raw(zmq.Context.instance(), server.endpoint)
    try:
        _alive(other)
    finally:
        other.sock.close(linger=0)


def test_a_repeated_call_id_is_answered_from_the_cache_without_milling_again(raw):
    client, server, factory = raw
    session = client.open()
    client.call("column.unblank", "u-1", session)
    pattern = {"kind": "box", "width_um": 1, "height_um": 1, "depth_um": 1, "front_z_um": 0.5}
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
    pattern = {"kind": "box", "width_um": 1, "height_um": 1, "depth_um": 1, "front_z_um": 0.5}
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
    pattern = {"kind": "box", "width_um": 1, "height_um": 1, "depth_um": 1, "front_z_um": 0.5}
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


def test_many_clients_at_once_are_all_served(raw):
    _, server, _ = raw
    errors: list[BaseException] = []

    def hammer(n: int) -> None:
        context: zmq.Context[Any] = zmq.Context()
        try:
            client = Raw(context, server.endpoint)
            session = client.open()
            for i in range(20):
                assert client.call("clock.now_s", f"t{n}-{i}", session).ok
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            context.destroy(linger=0)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert json.dumps(server.stats())
