"""Message frames: a JSON header plus raw array frames, encoded and checked on the way in.

Why raw frames: a SIMS raster is megabytes of counts; as JSON it would be slow and lossy, as
pickle it would let a peer run code. A raw frame with a declared little-endian dtype and shape
is exact, fast and inert. Every check here raises :class:`ProtocolFault` with the error code
the server puts in its reply, so a bad message is answered, never fatal.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from fibsims.instrument.transport.protocol import (
    PROTOCOL_VERSION,
    ArraySpec,
    ErrorCode,
    Limits,
    WireModel,
)

Part = bytes | memoryview | Any  # bytes, or a zmq.Frame (which exposes the buffer protocol)
M = TypeVar("M", bound=WireModel)


class ProtocolFault(Exception):
    """A message that cannot be accepted, with the code to reply and the request id if known."""

    def __init__(self, code: ErrorCode, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def wire_array(array: np.ndarray) -> np.ndarray:
    """``array`` as C-contiguous little-endian, the form its frame is sent in."""
    out = np.asarray(array)
    if not out.flags.c_contiguous:
        out = np.ascontiguousarray(out)  # (not for 0-d arrays, which it would make 1-d)
    if out.dtype.byteorder == ">":
        out = out.astype(out.dtype.newbyteorder("<"))
    return out


def encode(header: M, arrays: Sequence[np.ndarray] = ()) -> list[Any]:
    """Frames for ``header`` (its ``arrays`` field filled in) followed by the array bytes."""
    wired = [wire_array(a) for a in arrays]
    specs = tuple(ArraySpec(dtype=a.dtype.str, shape=a.shape) for a in wired)
    if specs:
        header = header.model_copy(update={"arrays": specs})
    arrays = (memoryview(a.reshape(-1).view(np.uint8)) for a in wired)
    return [header.model_dump_json().encode(), *arrays]


def decode(parts: Sequence[Part], model: type[M], limits: Limits) -> tuple[M, list[np.ndarray]]:
    """Check sizes, parse and validate the header as ``model``, and view the array frames."""
    if not parts:
        raise ProtocolFault(ErrorCode.BAD_REQUEST, "empty message: a header frame is required")
    raw = bytes(memoryview(parts[0]))
    if len(raw) > limits.max_header_bytes:
        raise ProtocolFault(
            ErrorCode.TOO_LARGE,
            f"header of {len(raw)} bytes exceeds the limit of {limits.max_header_bytes} bytes",
        )
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolFault(
            ErrorCode.BAD_REQUEST, f"the header frame is not UTF-8 JSON: {error}"
        ) from None
    if not isinstance(header, dict):
        raise ProtocolFault(ErrorCode.BAD_REQUEST, "the header frame must be a JSON object")
    request_id = header.get("id") if isinstance(header.get("id"), str) else None
    refuse = functools.partial(ProtocolFault, request_id=request_id)  # answered to that id
    total = sum(memoryview(p).nbytes for p in parts)
    frames = parts[1:]
    if total > limits.max_message_bytes:
        raise refuse(
            ErrorCode.TOO_LARGE,
            f"message of {total} bytes exceeds the limit of {limits.max_message_bytes} bytes",
        )
    if len(frames) > limits.max_arrays:
        raise refuse(
            ErrorCode.TOO_LARGE,
            f"message carries {len(frames)} array frames; at most {limits.max_arrays}",
        )
    version = header.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:  # true and 1.0 equal 1
        raise refuse(
            ErrorCode.UNSUPPORTED_VERSION,
            f"protocol version {version!r} is not spoken here; this end speaks "
            f"version {PROTOCOL_VERSION} (the integer)",
        )
    message = validate(model, header, request_id)
    specs: tuple[ArraySpec, ...] = getattr(message, "arrays", ())
    if len(specs) != len(frames):
        raise refuse(
            ErrorCode.BAD_REQUEST,
            f"the header declares {len(specs)} arrays but {len(frames)} array frames came",
        )
    arrays = []
    for index, (spec, frame) in enumerate(zip(specs, frames, strict=True)):
        dtype = np.dtype(spec.dtype)
        expected = math.prod(spec.shape) * dtype.itemsize
        got = memoryview(frame).nbytes
        if got != expected:
            raise refuse(
                ErrorCode.BAD_REQUEST,
                f"array {index} ({spec.dtype}, shape {list(spec.shape)}) needs {expected} "
                f"bytes; its frame has {got}",
            )
        arrays.append(np.frombuffer(memoryview(frame), dtype=dtype).reshape(spec.shape))
    return message, arrays


def validate(model: type[M], data: Any, request_id: str | None) -> M:
    """``data`` as ``model``, or a ``bad_request`` fault listing what is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ProtocolFault(
            ErrorCode.BAD_REQUEST, summarize_validation(error), request_id
        ) from None


def oversize(frames: Sequence[Part], limits: Limits) -> str | None:
    """Why ``frames`` may not be sent (a header or a whole message beyond ``limits``), if so."""
    header, total = memoryview(frames[0]).nbytes, sum(memoryview(f).nbytes for f in frames)
    if header > limits.max_header_bytes:
        return f"header of {header:,} bytes, above the header limit of {limits.max_header_bytes:,}"
    if total > limits.max_message_bytes:
        return f"size of {total:,} bytes, above the limit of {limits.max_message_bytes:,}"
    return None


def summarize_validation(error: ValidationError, lead: str = "invalid message: ") -> str:
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"])
        problems.append(f"{where}: {item['msg']}" if where else item["msg"])
    return lead + "; ".join(problems)
