"""Refuse an acquisition whose reply could not be sent, before the instrument runs it.

Why before: an image too large for one message would still be scanned (beam time, dose on the
face) and only then refused, and every retry of the call would be answered from the reply cache
with the same refusal. The bound is an upper bound of the reply: its array bytes at the dtypes
the value types promise, plus a header at its own limit. A raster's spectrum length comes from
the instrument's cost model when it has one, else a generous allowance is assumed.
"""

from __future__ import annotations

from typing import Any

from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.transport.frames import ProtocolFault
from fibsims.instrument.transport.protocol import ErrorCode, Limits
from fibsims.instrument.types import Image, Raster, RasterRequest, ScanRequest

MAX_SIDE_PX = 65536
"""No scan generator offers more pixels per side; anything beyond is a malformed request."""

SPECTRUM_SAMPLE_BYTES = 8 + 4  # float64 counts, float32 mass axis
UNKNOWN_SPECTRUM_SAMPLES = 1 << 20  # assumed without a cost model (12 MiB; the twin has 10171)


def _check_sides(method: str, scan: ScanRequest) -> tuple[int, int]:
    width, height = scan.resolution_px
    if width > MAX_SIDE_PX or height > MAX_SIDE_PX:
        raise ProtocolFault(
            ErrorCode.BAD_REQUEST,
            f"{method}: a scan of {width} x {height} px is beyond the {MAX_SIDE_PX} px per side "
            "any scan generator offers; ask for a resolution within it",
        )
    return width, height


def _check_fits(method: str, what: str, array_bytes: int, limits: Limits) -> None:
    bound = array_bytes + limits.max_header_bytes
    if bound > limits.max_message_bytes:
        raise ProtocolFault(
            ErrorCode.TOO_LARGE,
            f"{method}: the reply to {what} could need {bound:,} bytes ({array_bytes:,} of "
            f"arrays plus a header of up to {limits.max_header_bytes:,}), above this server's "
            f"message limit of {limits.max_message_bytes:,} bytes; acquire a smaller field, "
            "fewer pixels or fewer peaks per call",
        )


def check_raster(
    instrument: Instrument, request: RasterRequest, limits: Limits, method: str = "acquire_raster"
) -> None:
    """A raster is uint32 count maps per peak, the sum spectrum and a flag per scan line."""
    width, height = _check_sides(method, request.scan)
    peaks = len(request.peaks)
    costs = instrument.costs
    samples = UNKNOWN_SPECTRUM_SAMPLES if costs is None else costs.spectrum_samples(request)
    arrays = peaks * width * height * 4 + max(0, samples) * SPECTRUM_SAMPLE_BYTES + height
    what = f"a {width} x {height} px raster of {peaks} peaks and {samples:,} spectrum samples"
    _check_fits(method, what, arrays, limits)


def check_reply(
    instrument: Instrument, method: str, result: Any, arguments: dict[str, Any], limits: Limits
) -> None:
    """Bound the reply of any method that returns an :class:`Image` (uint16 per pixel, from
    the :class:`ScanRequest` it is given) or a :class:`Raster` (from its :class:`RasterRequest`)."""
    kind = {Image: ScanRequest, Raster: RasterRequest}.get(result)
    request = next((a for a in arguments.values() if isinstance(a, kind or ())), None)
    if isinstance(request, ScanRequest):
        width, height = _check_sides(method, request)
        _check_fits(method, f"a {width} x {height} px image", width * height * 2, limits)
    elif isinstance(request, RasterRequest):
        check_raster(instrument, request, limits, method)
