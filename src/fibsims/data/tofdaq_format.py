"""The conventions of a TofDAQ fibTOF file: record types, texts, times, the INI, chunk filters.

Why a module of its own: these are what readers of the instrument's files rely on (field names
and widths, string encodings, date formats) and how the file's chunks are compressed, kept apart
from the streaming of the data in :mod:`fibsims.data.sims_file` so each can be read, and
checked, alone. See ``docs/sims-file.md`` for the layout they belong to.
"""

from __future__ import annotations

import configparser
import io
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np

try:  # Intel's ISA-L deflate: the same format, six times faster (docs/performance.md)
    from isal import isal_zlib as deflate
except ImportError:  # a platform without its wheel: the standard library's, slower
    deflate = zlib

TOFDAQ_VERSION = np.float32(1.99)
"""The TofDAQ version whose layout the file follows (readers only test that it is there)."""

LOG_DTYPE = np.dtype([("timestamp", "<u8"), ("timestring", "S26"), ("logtext", "S256")])
PEAK_DTYPE = np.dtype(
    [
        ("label", "S64"),
        ("mass", "<f4"),
        ("lower integration limit", "<f4"),
        ("upper integration limit", "<f4"),
    ]
)

ADC_FULL_SCALE_V = 0.5
"""ADC input range written as ``ChNFullScale`` (volts). The run records no digitiser: this is
the nominal range of a TofDAQ channel, there because readers parse the section."""
RECORDED_CHANNELS = (1, 0, 0, 0)
"""``ChNRecord``: one channel recorded, so readers that divide event counts by the number of
recorded channels divide by 1."""

CHUNK_FILTERS: dict[str, Any] = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
"""How the large datasets are stored: a byte shuffle, then gzip (every HDF5 build reads it) at
its fastest level. The SE images are integers held as float64 and the counts mostly small, so
they shrink five- to tenfold. :func:`encode_chunk` applies exactly these filters."""

CREATION_TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
LOG_TICKS_PER_S = 1_000_000_000
"""AcquisitionLog ``timestamp``: a monotonic counter, here nanoseconds of instrument time
since the run's start."""


class SimsFileError(Exception):
    """sims.h5 could not be written: the run cannot be expressed in the layout, or the disk
    refused. The run itself (run.h5) is untouched."""


def ion_mode(labels: Iterable[str]) -> bytes:
    """``b"positive"`` or ``b"negative"`` from the charge sign ending every peak label
    (``6Li+``, ``O-``, ``Xe2+``): a raster extracts one polarity, so they must agree."""
    signs = {label.strip()[-1:] for label in labels}
    if signs == {"+"}:
        return b"positive"
    if signs == {"-"}:
        return b"negative"
    raise SimsFileError(
        f"cannot tell the raster's polarity from its peak labels (signs {sorted(signs)}): "
        "every label must end in + or -, all the same"
    )


def peak_table(peaks: Iterable[tuple[str, float, float, float]]) -> np.ndarray:
    """PeakTable rows from (label, mass, lower, upper) in u; labels past 64 bytes are cut."""
    rows = [(label.encode()[:64], mass, lower, upper) for label, mass, lower, upper in peaks]
    return np.array(rows, dtype=PEAK_DTYPE)


def text(value: object) -> np.bytes_:
    """A fixed-length byte string attribute, as TofDAQ writes them (readers decode bytes)."""
    return np.bytes_(str(value).encode("utf-8"))


def creation_time(start: datetime) -> np.bytes_:
    """``HDF5 File Creation Time``: local time, day first, no zone."""
    return text(start.astimezone().strftime(CREATION_TIME_FORMAT))


def log_entry(start: datetime, t_s: float, message: str) -> tuple[int, bytes, bytes]:
    """One AcquisitionLog row ``t_s`` instrument seconds after ``start``: ISO-8601 local time
    with its offset, whole seconds (some readers parse ``%Y-%m-%dT%H:%M:%S%z``)."""
    t_s = max(float(t_s), 0.0) if np.isfinite(t_s) else 0.0
    when = (start + timedelta(seconds=t_s)).astimezone()
    stamp = when.replace(microsecond=0).isoformat(timespec="seconds")
    return round(t_s * LOG_TICKS_PER_S), stamp.encode(), message.encode("utf-8")[:256]


def configuration(extra: Mapping[str, Mapping[str, object]]) -> np.bytes_:
    """``Configuration File Contents``: INI text, ``[TOFParameter]`` with the ADC ranges, then
    ``extra`` sections (fibsims' own, and the caller's) merged over it, key=value lines."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep ChNFullScale
    tof = {f"Ch{n}FullScale": ADC_FULL_SCALE_V for n in range(1, 5)}
    tof |= {f"Ch{n}Record": record for n, record in enumerate(RECORDED_CHANNELS, start=1)}
    parser.read_dict({"TOFParameter": tof})
    for section, values in extra.items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, str(key), _one_line(value))
    out = io.StringIO()
    parser.write(out, space_around_delimiters=False)
    return text(out.getvalue())


def _one_line(value: object) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", str(value)).strip()


def parse_start(value: object) -> datetime | None:
    """The run's wall-clock start from an ISO-8601 attribute (``created_utc``), if valid."""
    try:
        start = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


def encode_chunk(values: np.ndarray) -> bytes:
    """One whole chunk through :data:`CHUNK_FILTERS` (HDF5's shuffle: the i-th byte of every
    element together, for each i; then a zlib stream), ready for a direct chunk write. Why not
    let HDF5 filter it: this runs beside the run's other work on a thread (the deflate releases
    the GIL). The stream is deflate as any zlib writes it, made by ISA-L when it is installed:
    an SE image of the default run (14 MB as float64) in about 10 ms instead of 65 ms at the
    same size; every HDF5 reader inflates it alike."""
    array = np.ascontiguousarray(values)
    planes = array.view(np.uint8).reshape(-1, array.dtype.itemsize).T
    level = CHUNK_FILTERS["compression_opts"]
    return deflate.compress(np.ascontiguousarray(planes).tobytes(), level)
