"""One HDF5 file per slice, written atomically: the unit of durability during a run.

A slice file holds everything the slice produced (step timings, read-backs, SE images, SIMS
count maps and spectra). The run file is consolidated from these at the end; until then they
are what a live viewer opens, and what a resumed run keeps. See docs/reliability.md.

Each file is built in memory (HDF5's core driver) and written with plain file I/O. Why: HDF5
handles a full disk badly (h5py raises RuntimeError on close, and the library can crash the
process later while it cleans up the failed file), whereas a plain write fails with a clean
``OSError`` that becomes a :class:`StoreError` and pauses the run. A slice is a few MB, so the
image costs nothing worth noting; its bytes also give the receipt without reading the file back.
"""

from __future__ import annotations

import json
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fibsims.data.atomic import write_atomic
from fibsims.data.truth import TruthCollector
from fibsims.engine.context import RunContext
from fibsims.engine.events import Event
from fibsims.engine.records import SliceAssembler, SliceRecord
from fibsims.engine.store import Receipt, SliceSeal, StoreError
from fibsims.instrument.types import Image, Raster

STEP_DTYPE = np.dtype(
    [
        ("slice", "<i4"),
        ("position", "<i4"),
        ("kind", "S32"),
        ("started_s", "<f8"),
        ("finished_s", "<f8"),
        ("duration_s", "<f8"),
        ("current_na", "<f8"),
    ]
)
PEAK_DTYPE = np.dtype(
    [
        ("label", "S64"),
        ("mass", "<f4"),
        ("lower integration limit", "<f4"),
        ("upper integration limit", "<f4"),
    ]
)


CHUNK_BYTES = 8 * 2**20
STEP_POSITION_ATTR = "step_position"


def slice_file_name(index: int) -> str:
    return f"slice_{index:06d}.h5"


def file_receipt(path: Path) -> Receipt:
    """CRC-32 and size of the file at ``path``. CRC-32, not a cryptographic hash: it guards
    against damage (torn writes, bad sectors, truncation), not against an adversary, and at
    several GB/s it costs nothing beside writing the data."""
    crc, size = 0, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return Receipt(crc32=f"{crc:08x}", bytes=size)


def damage(path: Path, expected: Receipt) -> str | None:
    """What is wrong with a committed slice file, or None when it is as it was written."""
    try:
        found = file_receipt(path)
    except FileNotFoundError:
        return "its file is gone"
    except OSError as error:
        return f"its file cannot be read ({error.strerror or error})"
    if found.bytes != expected.bytes:
        return f"its file is {found.bytes} bytes, {expected.bytes} were written"
    if found.crc32 != expected.crc32:
        return "its file's checksum does not match the one journalled when it was written"
    return None


def step_rows(record: SliceRecord) -> np.ndarray:
    rows = np.zeros(len(record.steps), dtype=STEP_DTYPE)
    for row, step in zip(rows, record.steps, strict=True):
        row["slice"] = record.index
        row["position"] = step.position
        row["kind"] = step.kind.encode()
        row["started_s"] = step.started_s
        row["finished_s"] = step.finished_s
        row["duration_s"] = step.duration_s
        row["current_na"] = step.current_na
    return rows


def peak_rows(raster: Raster) -> np.ndarray:
    rows = np.zeros(len(raster.peaks), dtype=PEAK_DTYPE)
    for row, peak in zip(rows, raster.peaks, strict=True):
        row["label"] = peak.label.encode()
        row["mass"] = peak.mass_u
        row["lower integration limit"] = peak.lower_u
        row["upper integration limit"] = peak.upper_u
    return rows


def _image_attrs(image: Image) -> dict[str, Any]:
    return {
        "pixel_size_nm": image.pixel_size_nm,
        "dwell_us": image.dwell_us,
        "frames": image.frames,
        "current_na": image.current_na,
        "duration_s": image.duration_s,
        "saturated_fraction": image.saturated_fraction,
    }


def _raster_attrs(raster: Raster) -> dict[str, Any]:
    reported = {
        key: value
        for key, value in (
            ("extraction_rate_hz", raster.extraction_rate_hz),
            ("peak_window_fraction", raster.peak_window_fraction),
            ("max_ions_per_extraction", raster.max_ions_per_extraction),
            ("duty_cycles", None if raster.duty_cycles is None else list(raster.duty_cycles)),
        )
        if value is not None
    }
    return {
        **reported,
        "pixel_size_nm": raster.pixel_size_nm,
        "dwell_us": raster.dwell_us,
        "frames": raster.frames,
        "current_na": raster.current_na,
        "duration_s": raster.duration_s,
        "MassCalibMode": 0,
        "MassCalibration p1": raster.spectrum.calibration_p1,
        "MassCalibration p2": raster.spectrum.calibration_p2,
        "SampleInterval": raster.spectrum.sample_interval_s,
    }


def _made_by(record: SliceRecord, name: str) -> dict[str, int]:
    """``step_position``: the step of the slice that kept product ``name`` (its row in the
    step table), when the record knows it."""
    position = record.positions.get(name)
    return {} if position is None else {STEP_POSITION_ATTR: position}


def read_context(path: Path) -> RunContext:
    """The run context a committed slice left (the start of a resumed run)."""
    with h5py.File(path, "r") as f:
        record = json.loads(f.attrs.get("context_json", "{}"))
        arrays = {}
        if "context" in f:
            f["context"].visititems(
                lambda name, obj: (
                    arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
                )
            )
    return RunContext.from_record(record, arrays)


def slice_image(record: SliceRecord) -> bytes:
    """The bytes of ``record``'s slice file, built in memory (nothing touches the disk)."""
    with h5py.File(f"slice-{record.index}.h5", "w", driver="core", backing_store=False) as f:
        _fill(f, record)
        f.flush()
        return bytes(f.id.get_file_image())


def _fill(f: h5py.File, record: SliceRecord) -> None:
    f.attrs.update(
        {
            "slice": record.index,
            "face_z_um": record.face_z_um,
            "started_s": record.started_s,
            "finished_s": record.finished_s,
            "stage_x_um": record.stage.x_um,
            "stage_y_um": record.stage.y_um,
            "stage_z_um": record.stage.z_um,
            "stage_tilt_deg": record.stage.tilt_deg,
            "stage_rotation_deg": record.stage.rotation_deg,
            "nominal_front_um": record.nominal_front_um,
            "context_json": json.dumps(record.context.record()),
        }
    )
    for name, array in record.context.arrays().items():
        f.create_dataset(f"context/{name}", data=array)
    f.create_dataset("steps", data=step_rows(record))
    f["steps"].attrs["metadata_json"] = json.dumps([s.metadata for s in record.steps])
    for name, image in record.images.items():
        ds = f.create_dataset(f"images/{name}", data=image.pixels)
        ds.attrs.update(_image_attrs(image))
        ds.attrs.update(_made_by(record, name))
    for name, raster in record.rasters.items():
        group = f.create_group(f"rasters/{name}")
        group.attrs.update(_raster_attrs(raster))
        group.attrs.update(_made_by(record, name))
        group.create_dataset("counts", data=raster.count_maps)
        group.create_dataset("peak_table", data=peak_rows(raster))
        group.create_dataset("sum_spectrum", data=raster.spectrum.counts)
        group.create_dataset("mass_axis", data=raster.spectrum.mass_axis_u)
        group.create_dataset("saturated_lines", data=raster.saturated_lines)
    for name, maps in record.truth.items():
        for key, value in maps.items():
            f.create_dataset(f"truth/{name}/{key}", data=value)


class SliceFileStore:
    """The :class:`~fibsims.engine.store.SliceStore` that writes one atomic file per slice.

    It subscribes to the event stream (an assembler gathers the slice's steps and products)
    and takes the slice's ground truth from the :class:`~fibsims.data.truth.TruthCollector`
    when one is wired."""

    def __init__(
        self,
        folder: Path,
        truth: TruthCollector | None = None,
        on_written: Callable[[int, Path, Receipt, bytes], None] | None = None,
    ) -> None:
        self.folder = folder
        self.truth = truth
        self.on_written = on_written
        """Told of each committed slice's file once it is durable, with its bytes (the run
        file written as the run goes, ``data.live_products``)."""
        self.assembler = SliceAssembler()
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: Event) -> None:
        self.assembler(event)

    @staticmethod
    def file_name(index: int) -> str:
        return slice_file_name(index)

    def path(self, index: int) -> Path:
        return self.folder / slice_file_name(index)

    @property
    def superseded(self) -> Path:
        """Where slices that stopped part way (and stray uncommitted files) are kept."""
        return self.folder.parent / "superseded"

    def _record(self, seal: SliceSeal) -> SliceRecord:
        truth = self.truth.take(seal.index) if self.truth is not None else {}
        record = self.assembler.record(seal, truth)
        self.assembler.clear()
        return record

    def commit(self, seal: SliceSeal) -> Receipt:
        """Write the slice file durably; the receipt (CRC-32, size) is that of its bytes."""
        return self.write_slice(self._record(seal))

    def write_slice(self, record: SliceRecord) -> Receipt:
        path = self.path(record.index)
        image = self._write(path, record)
        receipt = Receipt(crc32=f"{zlib.crc32(image):08x}", bytes=len(image))
        if self.on_written is not None:
            self.on_written(record.index, path, receipt, image)
        return receipt

    def set_aside(self, seal: SliceSeal) -> None:
        if not self.assembler.holds_anything:
            return
        record = self._record(seal)
        self.superseded.mkdir(exist_ok=True)
        attempt = len(list(self.superseded.glob(f"slice_{record.index:06d}*.h5")))
        self._write(self.superseded / f"slice_{record.index:06d}-{attempt + 1}.h5", record)

    def _write(self, path: Path, record: SliceRecord) -> bytes:
        try:
            image = slice_image(record)
        except (OSError, RuntimeError, ValueError) as error:  # HDF5 refused the content
            raise StoreError(
                f"could not build slice {record.index}'s file: {error}; fix that, then resume"
            ) from error
        try:
            write_atomic(path, lambda tmp: tmp.write_bytes(image))
        except OSError as error:
            raise StoreError(
                f"could not write slice {record.index} to {path.parent}: "
                f"{error.strerror or error}; free space or fix the folder, then resume"
            ) from error
        return image

    def free_and_slice_bytes(self) -> tuple[int, int]:
        """Free bytes on the slices' file system and the size of the newest slice file."""
        free = shutil.disk_usage(self.folder).free
        files = sorted(self.folder.glob("slice_*.h5"))
        return free, files[-1].stat().st_size if files else 0
