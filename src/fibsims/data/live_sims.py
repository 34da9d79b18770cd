"""sims.h5's bulk written slice by slice as the run goes, completed from run.h5 at the end.

Why: the SE images in sims.h5 are float64 (the type the fibTOF readers expect) behind gzip, the
slowest thing a run writes. Made at the end from run.h5 they kept the user waiting half a
minute after the last slice of the default run; encoded as each slice commits, on the
background thread of :mod:`fibsims.data.live_products`, they cost nothing at the end. What
needs the whole run (the header attributes, line times, log, sum spectrum, saturation flags)
is written once run.h5 is final, by the same functions as :func:`~fibsims.data.sims_file
.write_sims_file`, so both ways give the same file: a test compares them dataset by dataset.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import h5py
import numpy as np

from fibsims.data.atomic import temporary_sibling
from fibsims.data.platform import fsync_directory
from fibsims.data.run_reader import RunData, RunDataError
from fibsims.data.sims_file import SimsFileError, image_dataset, image_name, peak_data_dataset
from fibsims.data.sims_header import describe_run, write_whole_run_parts
from fibsims.data.tofdaq_format import encode_chunk


class LiveSimsFile:
    """PeakData rows and FIBImages of raster ``raster`` and image ``image``, row ``i`` for
    slice ``i``, in a temporary sibling of ``path`` until :meth:`finish` renames it."""

    def __init__(self, path: Path, raster: str, image: str, capacity: int) -> None:
        self.path = path
        self.raster = raster
        self.image = image
        self.capacity = max(capacity, 1)
        self.tmp = temporary_sibling(path)
        self.file = h5py.File(self.tmp, "w")
        self.images = self.file.create_group("FIBImages")
        self.peak_data: h5py.Dataset | None = None
        self.image_shape: tuple[int, ...] | None = None
        self.rows = 0
        self.total: np.ndarray | None = None

    def add(self, i: int, source: h5py.File) -> None:
        """Encode slice ``i`` of the open slice file ``source``. A slice without the raster
        keeps zeros, as the file made from run.h5 does (its image, too)."""
        self.rows = i + 1
        raster = source.get(f"rasters/{self.raster}")
        picture = source.get(f"images/{self.image}")
        if picture is not None and self.image_shape is None:
            self.image_shape = tuple(picture.shape)
        if raster is None:
            return
        counts = np.moveaxis(np.asarray(raster["counts"][()], dtype=np.float32), 0, -1)
        if self.peak_data is None:
            lines, columns, peaks = counts.shape
            self.peak_data = peak_data_dataset(
                self.file, self.capacity, lines, columns, peaks, growable=True
            )
        self.peak_data.id.write_direct_chunk((i, 0, 0, 0), encode_chunk(counts))
        spectrum = np.asarray(raster["sum_spectrum"][()], dtype=np.float64)
        spectrum = np.where(np.isfinite(spectrum), spectrum, 0)
        self.total = spectrum if self.total is None else self.total + spectrum
        if self.image_shape is None:
            return  # no image yet: written as zeros at the end if the run has one
        pixels = picture[()] if picture is not None else np.zeros(self.image_shape, "u2")
        chunk = encode_chunk(np.asarray(pixels, dtype=np.float64))
        image_dataset(self.images, _row_name(i), self.image_shape).id.write_direct_chunk(
            (0, 0), chunk
        )

    def sync(self) -> None:
        """Push what is written so far to the disk, so the end has little left to flush."""
        self.file.flush()
        os.fsync(self.file.id.get_vfd_handle())

    def finish(self, run_file: Path, slices: int) -> None:
        """Complete the file from the final ``run_file`` (``slices`` rows) and rename it into
        place; raise :class:`SimsFileError` if run.h5 asks for another file than this one
        (other products, a missing slice), so the caller writes it whole instead."""
        try:
            with RunData(run_file) as run:
                self._complete(run, slices)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, RunDataError) as error:
            self.discard()
            raise SimsFileError(f"could not complete sims.h5 as written: {error}") from error
        os.replace(self.tmp, self.path)
        fsync_directory(self.path.parent)

    def _complete(self, run: RunData, slices: int) -> None:
        raster = run.product("raster", "sims_raster")
        image = run.product("image", "se_image")
        if (raster, image) != (self.raster, self.image) or not run.slices == slices == self.rows:
            raise ValueError(f"it holds {self.raster!r} and {self.image!r} of {self.rows} slices")
        header = describe_run(run, raster, image)
        if run.slices and self.peak_data is None:
            raise ValueError("no slice had the raster")
        if self.peak_data is not None:
            self.peak_data.resize(slices, axis=0)
        else:
            peak_data_dataset(self.file, slices, header.lines_px, header.columns_px, 0)
        if image in run.products("image"):
            shape = run.image(image).shape[1:]
            for i in range(slices):
                name = image_name(i, slices)
                if _row_name(i) in self.images and _row_name(i) != name:
                    self.images.move(_row_name(i), name)
                if name not in self.images:
                    image_dataset(self.images, name, shape)
        total = self.total if self.total is not None else np.zeros(header.mass_axis_u.shape)
        write_whole_run_parts(self.file, run, header, raster, total)
        self.file.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())

    def discard(self) -> None:
        """Close and delete the temporary file (a failure, or a run that went another way)."""
        with contextlib.suppress(Exception):
            self.file.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)


def _row_name(i: int) -> str:
    """The name slice ``i``'s image takes while the run goes (renamed at the end if the final
    slice count needs more digits)."""
    return image_name(i, 0)
