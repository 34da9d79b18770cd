"""The wire codec: arrays as raw frames with dtype and shape, and every malformed message
refused with a typed error code."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fibsims.instrument.transport.derived import METHODS, ArrayPack
from fibsims.instrument.transport.frames import ProtocolFault, decode, encode
from fibsims.instrument.transport.protocol import ErrorCode, Limits, Reply, Request

LIMITS = Limits(max_message_bytes=10_000, max_header_bytes=2_000, max_arrays=4)


def _header(**fields: object) -> bytes:
    return json.dumps({"v": 1, "id": "c-1", "method": "clock.now_s", **fields}).encode()


def test_arrays_of_every_carried_dtype_round_trip_exactly(truth_arrays):
    pack = ArrayPack()
    codec = METHODS["truth.last_image_truth"]
    frames = encode(Reply(id="x", ok=True, result=codec.encode(truth_arrays, pack)), pack.arrays)
    reply, arrays = decode(frames, Reply, Limits())
    back = codec.decode(reply.result, arrays)
    assert back.keys() == truth_arrays.keys()
    for name, original in truth_arrays.items():
        got = back[name]
        assert got.shape == original.shape, name
        assert got.dtype == original.dtype.newbyteorder("<"), name
        assert np.array_equal(got, original, equal_nan=got.dtype.kind in "fc"), name


def test_a_message_without_arrays_is_one_json_frame():
    frames = encode(Request(v=1, id="a-1", method="ping"))
    assert len(frames) == 1 and json.loads(frames[0])["method"] == "ping"


@pytest.mark.parametrize(
    ("parts", "code", "words"),
    [
        ([], ErrorCode.BAD_REQUEST, "empty message"),
        ([b"\xff\xfe"], ErrorCode.BAD_REQUEST, "not UTF-8 JSON"),
        ([b"{not json"], ErrorCode.BAD_REQUEST, "not UTF-8 JSON"),
        ([b"[1, 2]"], ErrorCode.BAD_REQUEST, "JSON object"),
        ([_header(v=2)], ErrorCode.UNSUPPORTED_VERSION, "version 2"),
        ([_header(v=True)], ErrorCode.UNSUPPORTED_VERSION, "version True"),
        ([_header(v=1.0)], ErrorCode.UNSUPPORTED_VERSION, "version 1.0"),
        (
            [_header(arrays=[{"dtype": "<u2", "shape": [True]}]), b"ab"],
            ErrorCode.BAD_REQUEST,
            "integer",
        ),
        ([json.dumps({"id": "c-1"}).encode()], ErrorCode.UNSUPPORTED_VERSION, "None"),
        ([_header(extra=1)], ErrorCode.BAD_REQUEST, "extra"),
        ([_header(id="has space")], ErrorCode.BAD_REQUEST, "id"),
        ([b" " * 3000], ErrorCode.TOO_LARGE, "header"),
        ([_header(), b"x" * 10_001], ErrorCode.TOO_LARGE, "10000 bytes"),
        ([_header(), b"", b"", b"", b"", b""], ErrorCode.TOO_LARGE, "at most 4"),
        ([_header(arrays=[{"dtype": "<u2", "shape": [2]}])], ErrorCode.BAD_REQUEST, "declares 1"),
        (
            [_header(arrays=[{"dtype": "<u2", "shape": [3]}]), b"abcd"],
            ErrorCode.BAD_REQUEST,
            "needs 6 bytes",
        ),
        (
            [_header(arrays=[{"dtype": "|O", "shape": [1]}]), b"12345678"],
            ErrorCode.BAD_REQUEST,
            "not carried",
        ),
        (
            [_header(arrays=[{"dtype": "<f8", "shape": [1] * 9}]), b"12345678"],
            ErrorCode.BAD_REQUEST,
            "dimensions",
        ),
    ],
)
def test_malformed_messages_are_refused_with_a_typed_code(parts, code, words):
    with pytest.raises(ProtocolFault) as caught:
        decode(parts, Request, LIMITS)
    assert caught.value.code is code
    assert words in caught.value.message


def test_a_refusal_names_the_request_id_when_the_header_was_readable():
    with pytest.raises(ProtocolFault) as caught:
        decode([_header(v=9)], Request, LIMITS)
    assert caught.value.request_id == "c-1"


def test_received_arrays_are_views_of_the_frames_in_the_declared_shape():
    data = np.arange(6, dtype="<u2")
    header = _header(arrays=[{"dtype": "<u2", "shape": [2, 3]}])
    request, arrays = decode([header, data.tobytes()], Request, LIMITS)
    assert request.arrays[0].shape == (2, 3)
    assert arrays[0].tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(
    "fields",
    [{"ok": "true"}, {"ok": 1}, {"ok": True, "clock_s": True}, {"ok": True, "duplicate": "no"}],
)
def test_a_reply_with_mistyped_fields_is_refused_not_coerced(fields):
    header = json.dumps({"v": 1, "id": "c-1", **fields}).encode()
    with pytest.raises(ProtocolFault) as caught:
        decode([header], Reply, LIMITS)
    assert caught.value.code is ErrorCode.BAD_REQUEST
