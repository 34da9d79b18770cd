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

The layout, and every value that the run does not record (pressure, ADC ranges, TofPeriod...),
is described in ``docs/sims-file.md``.
"""

from __future__ import annotations

import platform
import shutil
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import yaml

from fibsims.data.atomic import write_atomic
from fibsims.data.run_reader import RunData, RunDataError
from fibsims.data.tofdaq_format import (
    CHUNK_FILTERS,
    LOG_DTYPE,
    TOFDAQ_VERSION,
    SimsFileError,
    configuration,
    creation_time,
    encode_chunk,
    ion_mode,
    log_entry,
    parse_start,
    peak_table,
    text,
)

__all__ = [
    "SIMS_FILE",
    "SimsFileError",
    "refresh_sims_file",
    "write_sims_file",
    "write_sims_next_to",
]

SIMS_FILE = "sims.h5"
PRESSURE_KEY = "chamber_pressure_pa"
"""A step metadata key that, when a slice's step records it, gives that slice's pressure."""
WORKERS = 2
"""Threads that read and compress slices while the main thread writes the ones before; HDF5
calls are serialized, so more threads bring little."""
WINDOW = 4
"""Slices read ahead at most: memory stays at a few slices however long the run."""
ROOM_SLACK_BYTES = 16 * 2**20
EXPECTED_COMPRESSION = 0.5
"""Share of the raw size sims.h5 is expected to need, for the check before writing."""


@dataclass(frozen=True)
class _Header:
    """What the file will hold, read from the run before anything is written."""

    slices: int
    missing: np.ndarray
    """Slices without the raster: missing from the run, or skipped by the raster's schedule."""
    lines_px: int
    columns_px: int
    peaks: np.ndarray
    mass_axis_u: np.ndarray
    buffer_times_s: np.ndarray
    pressure_pa: np.ndarray
    raster_finished_s: np.ndarray
    """(slices,) when each slice's raster scan ended, instrument seconds; NaN: no scan."""
    start: datetime
    root_attrs: dict[str, Any]
    fib_attrs: dict[str, Any]
    spectra_attrs: dict[str, Any]


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
    try:
        header = _describe(run, raster, image, config or {})
    except (KeyError, ValueError, TypeError, OSError) as error:  # not the run file we know
        raise SimsFileError(f"cannot read the SIMS data of {run.path.name}: {error}") from error
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


# -- reading what the file needs ------------------------------------------------------------
def describe_run(run: RunData, raster: str, image: str) -> _Header:
    """What sims.h5 will hold for ``run``'s ``raster`` and ``image`` (``data.live_sims``
    completes a file written during the run with it); raises SimsFileError like a write."""
    try:
        return _describe(run, raster, image, {})
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise SimsFileError(f"cannot read the SIMS data of {run.path.name}: {error}") from error


def _describe(
    run: RunData, raster: str, image: str, config: Mapping[str, Mapping[str, object]]
) -> _Header:
    if raster not in run.products("raster"):
        raise SimsFileError(f"{run.path.name} has no SIMS raster named {raster!r}")
    counts = run.counts(raster)
    slices, _, lines_px, columns_px = counts.shape
    peaks = run.peaks(raster)
    mass_axis_u, _ = run.spectrum(raster)
    attrs = run.attrs
    product = run.product_attrs(raster)
    field = run.field(raster)
    species, voltage_kv = _beam(attrs)
    start = parse_start(attrs.get("created_utc", "")) or datetime.now(UTC)
    steps = _raster_steps(run, raster)
    duration_s = run.per_slice(raster, "duration_s")
    version = str(attrs.get("fibsims_version", ""))
    fibsims_section = {
        "recipe_name": attrs.get("recipe_name", ""),
        "seed": attrs.get("seed", ""),
        "instrument": attrs.get("instrument", ""),
        "fibsims_version": version,
        "raster": raster,
        "image": image if image in run.products("image") else "",
        "sims_pixel_size_um": field.pixel_size_nm / 1e3,
        # readers take ViewField / W for the SE images too: right when both share the field
        "se_pixel_size_um": _se_pixel_um(run, image),
    }
    sections = {"fibsims": fibsims_section, **{k: dict(v) for k, v in config.items()}}
    root_attrs = {
        "TofDAQ Version": TOFDAQ_VERSION,
        "FiblysGUIVersion": text(f"fibsims {version}".strip()),
        "DAQ Hardware": text(f"fibsims {attrs.get('instrument', '')} (peak-integrated counts)"),
        "IonMode": np.bytes_(ion_mode(p.label for p in peaks)),
        "NbrWrites": np.int32(slices),
        "NbrSegments": np.int32(lines_px),
        "NbrBufs": np.int32(lines_px),
        "NbrPeaks": np.int32(len(peaks)),
        "NbrSamples": np.int32(mass_axis_u.shape[0]),
        "NbrWaveforms": np.int32(1),
        "NbrBlocks": np.int32(1),
        "HDF5 File Creation Time": creation_time(start),
        "Computer ID": text(platform.node()),
        "Configuration File Contents": configuration(sections),
    }
    current_na = run.per_slice(raster, "current_na")
    absent = ~run.acquired(raster)  # a missing slice, or one its (scheduled) step skipped
    fib_attrs = {
        "FibHardware": text(f"fibsims {attrs.get('instrument', '')}, {species}+ FIB"),
        "FibInterfaceVersion": text(version),
        "Voltage": np.float64(voltage_kv * 1e3),
        "Current": np.float64(_typical(current_na, absent) * 1e-9),
        "ViewField": np.float64(field.width_um / 1e3),
        "ScanSpeed": np.float64(_number(product.get("dwell_us")) * 1e-6),
    }
    spectra_attrs = {
        "MassCalibMode": np.int32(product.get("MassCalibMode", 0)),
        "MassCalibration p1": np.float64(_number(product.get("MassCalibration p1"))),
        "MassCalibration p2": np.float64(_number(product.get("MassCalibration p2"))),
        "SampleInterval": np.float64(_number(product.get("SampleInterval"))),
        "Single Ion Signal": np.float64(1.0),
    }
    return _Header(
        slices=slices,
        missing=absent,
        lines_px=lines_px,
        columns_px=columns_px,
        peaks=peak_table((p.label, p.mass_u, p.lower_u, p.upper_u) for p in peaks),
        mass_axis_u=np.asarray(mass_axis_u, dtype=np.float32),
        buffer_times_s=_buffer_times(steps, duration_s, absent, lines_px),
        pressure_pa=_pressure(run),
        raster_finished_s=steps,
        start=start,
        root_attrs=root_attrs,
        fib_attrs=fib_attrs,
        spectra_attrs=spectra_attrs,
    )


def _beam(attrs: Mapping[str, Any]) -> tuple[str, float]:
    """Ion species and voltage in kV: run.h5's attributes, or, in run files without them, the
    recipe's ``instrument`` section (the recipe text run.h5 carries)."""
    species, voltage_kv = attrs.get("ion_species"), attrs.get("voltage_kv")
    if species is None or voltage_kv is None:
        try:
            recipe = yaml.safe_load(str(attrs.get("recipe", "")))
        except yaml.YAMLError:
            recipe = None
        section = recipe.get("instrument") if isinstance(recipe, dict) else None
        section = section if isinstance(section, dict) else {}
        species = species if species is not None else section.get("ion_species")
        voltage_kv = voltage_kv if voltage_kv is not None else section.get("voltage_kv")
    return str(species or "?"), _number(voltage_kv)


def _se_pixel_um(run: RunData, image: str) -> float | str:
    return run.field(image).pixel_size_nm / 1e3 if image in run.products("image") else ""


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _typical(values: np.ndarray, missing: np.ndarray) -> float:
    """The raster current over the run (median of the slices that have one), in nA."""
    present = values[~missing & np.isfinite(values)]
    return float(np.median(present)) if present.size else float("nan")


def _raster_steps(run: RunData, raster: str) -> np.ndarray:
    """(slices,) when each slice's raster step finished (NaN where it did not run): the rows
    of the step that made the product (its recorded position); in run files from before step
    names, ``sims_raster_2`` is the second step of kind ``sims_raster`` in a slice. A retried
    step's last row is the attempt that succeeded."""
    position = run.step_position(raster)
    kind, _, number = raster.rpartition("_")
    nth = int(number) if kind and number.isdigit() else 1
    kind = kind if kind and number.isdigit() else raster
    finished = np.full(run.slices, np.nan)
    rows = run.steps[()]
    by_slice: dict[int, dict[int, float]] = {}
    kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in rows["kind"]]
    if position is not None:
        mine = np.asarray(rows["position"]) == position
        nth = 1
    else:
        mine = np.array([k == kind for k in kinds], dtype=bool)
    for row in rows[mine]:
        by_slice.setdefault(int(row["slice"]), {})[int(row["position"])] = float(row["finished_s"])
    for i, index in enumerate(np.asarray(run.table["index"]).tolist()):
        ordered = [t for _, t in sorted(by_slice.get(int(index), {}).items())]
        if len(ordered) >= nth:
            finished[i] = ordered[nth - 1]
    return finished


def _buffer_times(
    finished_s: np.ndarray, duration_s: np.ndarray, missing: np.ndarray, lines: int
) -> np.ndarray:
    """(slices, lines) start of each raster line in instrument seconds from the run's start.

    The scan is the end of its step (the step first selects the current and corrects the
    drift), so it starts ``duration_s`` before the step finished; its time is spread evenly
    over the lines (frames are summed line by line). NaN for a slice without a raster."""
    duration = np.where(np.isfinite(duration_s), duration_s, 0.0)
    scan_start = finished_s - duration
    times = scan_start[:, None] + np.arange(lines)[None, :] * (duration / max(lines, 1))[:, None]
    times[missing] = np.nan
    return times


def _pressure(run: RunData) -> np.ndarray:
    """(slices, 1) chamber pressure in Pa: a slice's step metadata value under
    :data:`PRESSURE_KEY` if a step recorded one, else NaN (no step records it today)."""
    pressure = np.full((run.slices, 1), np.nan)
    for i, steps in enumerate(run.step_metadata[: run.slices]):
        for meta in steps or ():
            if isinstance(meta, dict) and isinstance(meta.get(PRESSURE_KEY), int | float):
                pressure[i, 0] = float(meta[PRESSURE_KEY])
    return pressure


def _saturated_lines(run: RunData, raster: str) -> h5py.Dataset | None:
    """(slices, lines) lines where the detector saturated, if the run file records them."""
    try:
        return run.saturated_lines(raster)
    except KeyError:
        return None


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
    header: _Header,
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


def write_whole_run_parts(
    f: h5py.File, run: RunData, header: _Header, raster: str, sum_spectrum: np.ndarray
) -> None:
    """Everything but PeakData's rows and the SE images: the attributes, the FIB parameters,
    times, mass axis, peak table, sum spectrum, saturation flags and the acquisition log."""
    n, lines = header.slices, header.lines_px
    f.attrs.update(header.root_attrs)
    f.create_group("FIBParams").attrs.update(header.fib_attrs)
    pressure = f.create_group("FibParams/FibPressure")
    pressure.create_dataset("TwData", data=header.pressure_pa)
    pressure.create_dataset("TwInfo", data=np.array([b"Chamber pressure [Pa]"]))
    tps = f.create_group("TPS2")
    tps.create_dataset("TwData", data=np.full((n, 1), np.nan))
    tps.create_dataset("TwInfo", data=np.array([b"TPS read-backs: not recorded (NaN)"]))
    timing = f.create_group("TimingData")
    timing.attrs["TofPeriod"] = np.int32(header.mass_axis_u.shape[0])
    timing.create_dataset("BufTimes", data=header.buffer_times_s)
    spectra = f.create_group("FullSpectra")
    spectra.attrs.update(header.spectra_attrs)
    spectra.create_dataset("MassAxis", data=header.mass_axis_u)
    saturation = spectra.create_dataset("SaturationWarning", shape=(n, lines), dtype="u1")
    f.require_group("PeakData").create_dataset("PeakTable", data=header.peaks)
    spectra.create_dataset("SumSpectrum", data=sum_spectrum)
    lines_saturated = _saturated_lines(run, raster)
    if lines_saturated is not None:
        flags = np.asarray(lines_saturated[()], dtype="u1").reshape(n, lines)
        flags[header.missing] = 0
        saturation[...] = flags
    f.create_group("AcquisitionLog").create_dataset("Log", data=_log(run, header))


@dataclass(frozen=True)
class _Encoded:
    """One slice, read and compressed: chunks for its SE image and its PeakData row."""

    index: int
    image_chunk: bytes | None
    counts_chunk: bytes | None
    spectrum: np.ndarray | None


class _SliceSource:
    """Reads and encodes slice ``i`` (in a worker thread); None for a missing slice's data."""

    def __init__(self, run: RunData, header: _Header, raster: str, image: str) -> None:
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
    header: _Header,
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


def _log(run: RunData, header: _Header) -> np.ndarray:
    """One entry per slice written, plus one per missing slice (and per slice whose raster did
    not run), stamped when its raster scan ended; an entry without a time takes the previous."""
    entries: list[tuple[int, bytes, bytes]] = []
    face_z_um = run.face_z_um
    indices = np.asarray(run.table["index"], dtype=np.int64)
    last_s = 0.0
    for i in range(header.slices):
        end_s = float(header.raster_finished_s[i])
        if np.isfinite(end_s) and not header.missing[i]:
            last_s = end_s
        slice_index = int(indices[i])
        if header.missing[i]:
            entries.append(
                log_entry(header.start, last_s, f"write {i}: slice {slice_index}, zeros (missing)")
            )
            entries.append(
                log_entry(
                    header.start,
                    last_s,
                    f"slice {slice_index} is missing "
                    "from the run (its file was damaged or lost after it was "
                    "committed): its data here are zeros",
                )
            )
            continue
        entries.append(
            log_entry(
                header.start,
                last_s,
                f"write {i}: slice {slice_index}, face at z = {face_z_um[i]:.4f} um",
            )
        )
        if not np.isfinite(header.raster_finished_s[i]):
            entries.append(
                log_entry(
                    header.start,
                    last_s,
                    f"slice {slice_index}: no raster step ran (skipped): its counts here are zeros",
                )
            )
    return np.array(entries, dtype=LOG_DTYPE)
