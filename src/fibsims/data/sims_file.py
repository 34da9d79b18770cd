"""``sims.h5``: the run's SIMS data in the TofDAQ fibTOF layout, for tools written for it.

Why: scientists already have readers for the instrument's own files (RosettaSciIO and HyperSpy,
their own scripts); a file in that layout opens in them unchanged, where run.h5 would need new
code. It is made from run.h5 alone, through :class:`fibsims.data.run_reader.RunData`, when a
session is finalized, and written atomically (a temporary sibling, then a rename), so a reader
sees the previous sims.h5 or the new one, never a torn file.

Streaming: slices are read from run.h5 one at a time and written in order (one SE image, one
raster of counts each), a few at most in flight, so memory stays at a few slices whatever the
run's length. Each write is one HDF5 chunk: PeakData is chunked (1, lines, columns, peaks),
each SE image is one chunk of its own, compressed by worker threads beside the writes.

What the file holds beside PeakData's rows and the SE images is read from the run by
:mod:`fibsims.data.sims_header`. The layout, and every value that the run does not record
(pressure, ADC ranges, TofPeriod...), is described in ``docs/sims-file.md``.
"""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import h5py
import numpy as np

from fibsims.data.atomic import write_atomic
from fibsims.data.run_reader import RunData, RunDataError
from fibsims.data.sims_header import SimsHeader, describe_run, write_whole_run_parts
from fibsims.data.tofdaq_format import (
    CHUNK_FILTERS,
    SimsFileError,
    encode_chunk,
)

__all__ = [
    "SIMS_FILE",
    "SimsFileError",
    "refresh_sims_file",
    "write_sims_file",
    "write_sims_next_to",
]

SIMS_FILE = "sims.h5"
WORKERS = 2
"""Threads that read and compress slices while the main thread writes the ones before; HDF5
calls are serialized, so more threads bring little."""
WINDOW = 4
"""Slices read ahead at most: memory stays at a few slices however long the run."""
ROOM_SLACK_BYTES = 16 * 2**20
EXPECTED_COMPRESSION = 0.5
"""Share of the raw size sims.h5 is expected to need, for the check before writing."""


def write_sims_file(
    run: RunData,
    path: Path,
    *,
    raster: str = "sims_raster",
    image: str = "se_image",
    config: Mapping[str, Mapping[str, object]] | None = None,
    between: Callable[[], None] = lambda: None,
) -> Path:
    """Write ``run``'s raster ``raster`` and SE image ``image`` to ``path`` atomically.

    ``config`` adds INI sections (``{section: {key: value}}``) to the file's 'Configuration
    File Contents', over the defaults. ``between`` is called before each slice and may raise to
    stop (a second Ctrl-C): the previous file, if any, stays as it was. Raises
    :class:`SimsFileError` if the run has no such raster, its polarity cannot be told, the disk
    lacks room or the write fails; nothing is left behind then.
    """
    path = Path(path)
    header = describe_run(run, raster, image, config)
    _check_room(run, path, raster, image)
    try:
        room = partial(_ensure_room, path)  # named after the file, checked in its folder
        write_atomic(path, lambda tmp: _write(tmp, run, header, raster, image, between, room))
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise SimsFileError(f"could not write {path.name}: {detail}") from error
    return path


def write_sims_next_to(
    run_file: Path, name: str = SIMS_FILE, between: Callable[[], None] = lambda: None
) -> Path:
    """``sims.h5`` beside ``run_file``, made from it: from the raster ``sims_raster`` and the
    image ``se_image``, or, when the recipe named its steps, from the run's first of each."""
    with RunData(run_file) as run:
        raster, image = run.product("raster", "sims_raster"), run.product("image", "se_image")
        path = Path(run_file).with_name(name)
        return write_sims_file(run, path, raster=raster, image=image, between=between)


def refresh_sims_file(run_file: Path, between: Callable[[], None] = lambda: None) -> str:
    """What finalizing calls once run.h5 is verified: write sims.h5 unless it is already newer
    than run.h5 (made from it before a kill). Return why it could not be written, or "": the
    run's data is in run.h5 either way, so a failure here is a note, not a failed run."""
    run_file = Path(run_file)
    target = run_file.with_name(SIMS_FILE)
    try:
        if target.exists() and target.stat().st_mtime_ns >= run_file.stat().st_mtime_ns:
            return ""
        write_sims_next_to(run_file, between=between)
    except (SimsFileError, RunDataError) as error:
        return f"{SIMS_FILE} was not written: {error}"
    except OSError as error:  # run.h5 could not be opened for reading
        return f"{SIMS_FILE} was not written: {error.strerror or error}"
    return ""


def _check_room(run: RunData, path: Path, raster: str, image: str) -> None:
    """Refuse before writing on a disk that cannot be expected to hold the file: HDF5 handles
    a full disk badly (it can crash the process while cleaning up). The expectation is half the
    raw size (the default run compresses to a sixth); :func:`_ensure_room` guards each slice."""
    raw = run.counts(raster).size * 4
    if image in run.products("image"):
        raw += run.image(image).size * 8
    _ensure_room(path, raw * EXPECTED_COMPRESSION)


def _ensure_room(path: Path, needed_bytes: float) -> None:
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError as error:
        raise SimsFileError(f"cannot write {path.name}: {error.strerror or error}") from None
    if free < needed_bytes + ROOM_SLACK_BYTES:
        raise SimsFileError(
            f"{path.name} needs about {(needed_bytes + ROOM_SLACK_BYTES) / 2**30:.3g} GiB and "
            f"only {free / 2**30:.3g} GiB are free in {path.parent}; run.h5 holds the same data"
        )


# -- writing -------------------------------------------------------------------------------
def _write(
    tmp: Path,
    run: RunData,
    header: SimsHeader,
    raster: str,
    image: str,
    between: Callable[[], None],
    room: Callable[[float], None],
) -> None:
    with h5py.File(tmp, "w") as f:
        peak_data = peak_data_dataset(
            f, header.slices, header.lines_px, header.columns_px, len(header.peaks)
        )
        images = f.create_group("FIBImages")
        sum_spectrum = _stream_slices(run, header, raster, image, between, peak_data, images, room)
        write_whole_run_parts(f, run, header, raster, sum_spectrum)


def peak_data_dataset(
    f: h5py.File, slices: int, lines: int, columns: int, peaks: int, growable: bool = False
) -> h5py.Dataset:
    """``PeakData/PeakData``: (slices, lines, columns, peaks) float32, one chunk per slice,
    growable in slices for a file written as the run goes (``data.live_products``)."""
    return f.require_group("PeakData").create_dataset(
        "PeakData",
        shape=(slices, lines, columns, peaks),
        maxshape=(None, lines, columns, peaks) if growable else None,
        dtype="<f4",
        chunks=(1, lines, columns, max(peaks, 1))
        if (growable or slices) and lines and columns
        else None,
        fillvalue=0.0,
        **CHUNK_FILTERS,
    )


def image_dataset(images: h5py.Group, name: str, shape: tuple[int, ...]) -> h5py.Dataset:
    """One SE image of ``FIBImages``: float64, one chunk, filled with zeros until written."""
    return images.create_dataset(
        f"{name}/Data", shape=shape, dtype="<f8", chunks=shape, fillvalue=0.0, **CHUNK_FILTERS
    )


def image_name(index: int, slices: int) -> str:
    """``Image0000``...: as many digits as the last slice needs (at least four), so the names
    sort as the slices do."""
    digits = max(4, len(str(max(slices - 1, 0))))
    return f"Image{index:0{digits}d}"


@dataclass(frozen=True)
class _Encoded:
    """One slice, read and compressed: chunks for its SE image and its PeakData row."""

    index: int
    image_chunk: bytes | None
    counts_chunk: bytes | None
    spectrum: np.ndarray | None


class _SliceSource:
    """Reads and encodes slice ``i`` (in a worker thread); None for a missing slice's data."""

    def __init__(self, run: RunData, header: SimsHeader, raster: str, image: str) -> None:
        self.header = header
        self.counts = run.counts(raster)
        self.spectra = run.spectrum(raster)[1]
        self.image = run.image(image) if image in run.products("image") else None

    def __call__(self, i: int) -> _Encoded:
        if self.header.missing[i]:
            return _Encoded(i, None, None, None)
        counts = np.moveaxis(np.asarray(self.counts[i], dtype=np.float32), 0, -1)
        image = None
        if self.image is not None:
            image = encode_chunk(np.asarray(self.image[i], dtype=np.float64))
        spectrum = np.asarray(self.spectra[i], dtype=np.float64)
        return _Encoded(
            i, image, encode_chunk(counts), np.where(np.isfinite(spectrum), spectrum, 0)
        )


def _stream_slices(
    run: RunData,
    header: SimsHeader,
    raster: str,
    image: str,
    between: Callable[[], None],
    peak_data: h5py.Dataset,
    images: h5py.Group,
    room: Callable[[float], None],
) -> np.ndarray:
    """Copy slice by slice, in order, at most :data:`WINDOW` slices ahead: PeakData rows (peaks
    last) and SE images as float64, each one chunk written as it was compressed. Return the sum
    spectrum over the slices present. A missing slice keeps the fill value, zero, and no space.
    """
    source = _SliceSource(run, header, raster, image)
    shape = source.image.shape[1:] if source.image is not None else None
    total = np.zeros(header.mass_axis_u.shape[0], dtype=np.float64)

    def put(done: _Encoded) -> None:
        # room for this slice and the window behind it, or stop before HDF5 meets a full disk
        chunk_bytes = len(done.image_chunk or b"") + len(done.counts_chunk or b"")
        room(chunk_bytes * (WINDOW + 1))
        if shape is not None:
            target = image_dataset(images, image_name(done.index, header.slices), shape)
            if done.image_chunk is not None:
                target.id.write_direct_chunk((0, 0), done.image_chunk)
        if done.counts_chunk is not None and peak_data.chunks is not None:
            peak_data.id.write_direct_chunk((done.index, 0, 0, 0), done.counts_chunk)
        if done.spectrum is not None:
            total[...] += done.spectrum

    pending: deque[Future[_Encoded]] = deque()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sims-file") as pool:
        try:
            for i in range(header.slices):
                between()
                pending.append(pool.submit(source, i))
                if len(pending) >= WINDOW:
                    put(pending.popleft().result())
            while pending:
                put(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    return total
