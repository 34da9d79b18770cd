"""What sims.h5 holds beside its bulk, read from a finished run: the root and FIB attributes,
the line times, pressures, peak table, saturation flags and the acquisition log.

Why a module of its own: both ways sims.h5 is made need it whole-run and once: written from
run.h5 at the end (:mod:`fibsims.data.sims_file`) and completed after being written as the run
went (:mod:`fibsims.data.live_sims`). The layout is described in ``docs/sims-file.md``.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import h5py
import numpy as np
import yaml

from fibsims.data.run_reader import RunData
from fibsims.data.tofdaq_format import (
    LOG_DTYPE,
    TOFDAQ_VERSION,
    SimsFileError,
    configuration,
    creation_time,
    ion_mode,
    log_entry,
    parse_start,
    peak_table,
    text,
)

PRESSURE_KEY = "chamber_pressure_pa"
"""A step metadata key that, when a slice's step records it, gives that slice's pressure."""


@dataclass(frozen=True)
class SimsHeader:
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


# -- reading what the file needs ------------------------------------------------------------
def describe_run(
    run: RunData, raster: str, image: str, config: Mapping[str, Mapping[str, object]] | None = None
) -> SimsHeader:
    """What sims.h5 will hold for ``run``'s ``raster`` and ``image`` (``config`` adds INI
    sections); raises :class:`SimsFileError` when the run is not the run file it knows."""
    try:
        return _describe(run, raster, image, config or {})
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise SimsFileError(f"cannot read the SIMS data of {run.path.name}: {error}") from error


def _describe(
    run: RunData, raster: str, image: str, config: Mapping[str, Mapping[str, object]]
) -> SimsHeader:
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
    return SimsHeader(
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


def write_whole_run_parts(
    f: h5py.File, run: RunData, header: SimsHeader, raster: str, sum_spectrum: np.ndarray
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


def _log(run: RunData, header: SimsHeader) -> np.ndarray:
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
