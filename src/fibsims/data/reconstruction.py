"""Assembling a finished run into 3D volumes (``volumes.h5``), slice by slice.

Why slice by slice: the default run's SE volume alone is 400 x 1024 x 1536 (1.26 GB as
uint16, twice that as float32); only a slice's planes (and, for the even grid, two measured
planes per volume) are ever in memory.

Per slice, with the run read only through :class:`fibsims.data.run_reader.RunData`:

1. **Register** the SIMS maps on the SE image (:mod:`fibsims.data.registration`): the
   recorded fields give the SIMS -> SE pixel mapping; the SE image binned onto the SIMS pixels
   is correlated with the total-ion map to refine it by at most ``max_shift_sims_px``.
2. **Place** the slice on the common grids, those of the first slice with data: the SE image
   on the ``se`` grid and the SIMS maps on the ``sims`` grid, each by whole pixels (counts are
   never interpolated in x and y), the fractions left (< half a pixel) recorded. The SE copy
   on the SIMS grid (``se_binned``) is binned onto where the placed SIMS pixels really lie, so
   ``se_binned`` and the SIMS volumes match voxel for voxel.
3. **Correct** every peak for the digitiser's saturation and the duty cycle's mass bias
   (:mod:`fibsims.data.dead_time`) and estimate the Li fraction
   (:mod:`fibsims.data.composition`).

Missing slices are NaN planes. Then every volume is resampled onto evenly spaced planes
(:mod:`fibsims.data.zgrid`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fibsims.data.composition import can_estimate, li_fraction
from fibsims.data.dead_time import (
    correct_duty_cycle,
    correct_saturation,
    extractions_per_pixel,
)
from fibsims.data.registration import Grid, Refinement, bin_image, register_slice, sims_to_se
from fibsims.data.registration_records import RegistrationRecords, registration_attributes
from fibsims.data.run_reader import RunData
from fibsims.data.volumes import VolumeWriter
from fibsims.data.zgrid import EvenZ, even_z, interpolate

Progress = Callable[[str, int, int], None]
"""(stage, done, total): called as the work advances."""

EXTRACTION_RATE_ATTR = "extraction_rate_hz"
MAX_IONS_ATTR = "max_ions_per_extraction"
DUTY_CYCLES_ATTR = "duty_cycles"
SE_VOLUME = "se"
SE_BINNED = "se_binned"
LI_FRACTION = "li_fraction"
CORRECTED = "_corrected"


@dataclass(frozen=True)
class ReconstructOptions:
    image: str | None = None
    """The SE image product (default ``se_image``, else the run's first)."""
    raster: str | None = None
    """The SIMS raster product (default ``sims_raster``, else the run's first)."""
    extraction_rate_hz: float | None = None
    """Overrides the raster's recorded extraction rate; without either, no corrected volumes."""
    max_ions_per_extraction: int | None = None
    """Overrides the recorded range of the digitiser in ions of a peak per extraction (1: a
    counting TDC); without either, no corrected volumes."""
    max_shift_sims_px: float = 3.0
    min_correlation: float = 0.2


@dataclass
class Reconstruction:
    """What a reconstruction wrote, for the command to report."""

    path: Path
    slices: int
    missing: int
    dead_time: dict[str, Any] = field(default_factory=dict)
    refinements_applied: int = 0
    refinement_rms_sims_px: float = 0.0
    notes: list[str] = field(default_factory=list)


def _pick(available: list[str], wanted: str | None, default: str, kind: str) -> str | None:
    if wanted is not None:
        if wanted not in available:
            have = ", ".join(available) or "none"
            raise ValueError(f"the run has no {kind} product {wanted!r}; it has: {have}")
        return wanted
    if default in available:
        return default
    return available[0] if available else None


def _resolve(
    recorded: Any, given: float | None, what: str, notes: list[str]
) -> tuple[float | None, str]:
    """A parameter from the option, else the run's record (the instrument reported it), else
    None."""
    if given is not None:
        if recorded is not None and not np.isclose(float(recorded), given):
            notes.append(f"{what}: the run records {float(recorded):g}; used {given:g} as given")
        return float(given), "option"
    if recorded is not None:
        return float(recorded), "run"
    return None, "unknown"


def _place(plane: np.ndarray, rows: int, cols: int, shape: tuple[int, int]) -> np.ndarray:
    """``plane`` put on a grid of ``shape`` with its first pixel at (rows, cols); NaN around."""
    out = np.full(shape, np.nan, dtype=np.float32)
    h, w = plane.shape
    r0, c0 = max(rows, 0), max(cols, 0)
    r1, c1 = min(rows + h, shape[0]), min(cols + w, shape[1])
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = plane[r0 - rows : r1 - rows, c0 - cols : c1 - cols]
    return out


def _split(offset: tuple[float, float]) -> tuple[tuple[int, int], tuple[float, float]]:
    whole = (round(offset[0]), round(offset[1]))
    return whole, (offset[0] - whole[0], offset[1] - whole[1])


class _Assembler:
    """The per-slice work of a reconstruction (one instance per run)."""

    def __init__(self, run: RunData, options: ReconstructOptions, notes: list[str]) -> None:
        self.run = run
        self.options = options
        self.image = _pick(run.products("image"), options.image, "se_image", "SE image")
        self.raster = _pick(run.products("raster"), options.raster, "sims_raster", "raster")
        if self.image is None and self.raster is None:
            raise ValueError("the run holds neither an SE image nor a SIMS raster to reconstruct")
        self.missing = run.missing
        valid = np.flatnonzero(~self.missing)
        if valid.size == 0:
            raise ValueError("every slice of the run is missing: there is nothing to reconstruct")
        self.reference = int(valid[0])
        self.grids: dict[str, Grid] = {}
        if self.image is not None:
            self.se_field = run.field(self.image)
            self.grids["se"] = Grid.of(self.se_field, self.reference)
        self.peaks: list[str] = []
        self.dead_time: dict[str, Any] = {}
        if self.raster is not None:
            self.sims_field = run.field(self.raster)
            self.grids["sims"] = Grid.of(self.sims_field, self.reference)
            self.peaks = [p.label for p in run.peaks(self.raster)]
            self._dead_time_setup(notes)
        self.li = bool(self.peaks) and bool(self.dead_time) and can_estimate(self.peaks)
        self.records = RegistrationRecords(run.slices)
        # a product of a scheduled step is on some slices only: its planes stay NaN elsewhere
        self.has_image = run.acquired(self.image) if self.image is not None else None
        self.has_raster = run.acquired(self.raster) if self.raster is not None else None
        self.capped = np.zeros(len(self.peaks), dtype=np.int64)

    def _dead_time_setup(self, notes: list[str]) -> None:
        attrs = self.run.product_attrs(self.raster)
        rate, rate_from = _resolve(
            attrs.get(EXTRACTION_RATE_ATTR),
            self.options.extraction_rate_hz,
            "the TOF extraction rate (Hz)",
            notes,
        )
        max_ions, max_ions_from = _resolve(
            attrs.get(MAX_IONS_ATTR),
            self.options.max_ions_per_extraction,
            "the digitiser's range in ions per extraction",
            notes,
        )
        missing = [
            what
            for what, value, flag in (
                ("TOF extraction rate", rate, "--extraction-rate-hz"),
                ("digitiser's range in ions per extraction", max_ions, "--max-ions-per-extraction"),
            )
            if value is None
            for what in [f"{what} ({flag})"]
        ]
        if missing:
            notes.append(
                "the instrument did not report its " + " nor its ".join(missing) + ", so the "
                "counts are not corrected for saturation (no *_corrected volumes, no Li "
                "fraction): give them with the options named"
            )
            return
        if attrs.get("dwell_us") is None or attrs.get("frames") is None:
            raise ValueError(
                f"the raster {self.raster!r} records no dwell_us or frames, so its extractions "
                "per pixel (and the saturation correction) are unknown"
            )
        duty = attrs.get(DUTY_CYCLES_ATTR)
        duty_cycles = None
        if duty is not None and np.size(duty) == len(self.peaks):
            duty_cycles = [float(d) for d in np.ravel(duty)]
        else:
            notes.append(
                "the instrument did not report the duty cycle of each peak, so the corrected "
                "counts keep the extraction's mass bias (isotope ratios of light ions read low "
                "by sqrt(m_light / m_heavy) on an orthogonal TOF)"
            )
        dwell_us, frames = float(attrs["dwell_us"]), int(attrs["frames"])
        self.dead_time = {
            "extraction_rate_hz": rate,
            "extraction_rate_source": rate_from,
            "max_ions_per_extraction": int(max_ions),
            "max_ions_per_extraction_source": max_ions_from,
            "extractions_per_pixel": extractions_per_pixel(dwell_us, frames, rate),
            "dwell_us": dwell_us,
            "frames": frames,
        }
        if duty_cycles is not None:
            self.dead_time["duty_cycles"] = duty_cycles

    def volumes(self) -> list[tuple[str, str, str, str]]:
        """(name, grid, unit, description) of every volume this run gives."""
        found = []
        if self.image is not None:
            found.append((SE_VOLUME, "se", "counts", f"SE image ({self.image}), full resolution"))
        if self.raster is not None:
            if self.image is not None:
                found.append(
                    (SE_BINNED, "sims", "counts", "SE image, area-averaged onto the SIMS pixels")
                )
            for label in self.peaks:
                found.append((label, "sims", "counts", f"{label} counts as recorded"))
            n = self.dead_time.get("extractions_per_pixel")
            for label in self.peaks if n else ():
                found.append(
                    (
                        label + CORRECTED,
                        "sims",
                        "counts",
                        f"{label} counts corrected for the digitiser's saturation "
                        f"({n} extractions per pixel)"
                        + (
                            " and divided by the peak's duty cycle (ions that reached the "
                            "extractor)"
                            if "duty_cycles" in self.dead_time
                            else ""
                        ),
                    )
                )
            if self.li:
                found.append(
                    (
                        LI_FRACTION,
                        "sims",
                        "1",
                        "Li / (Li + host metals) of abundance-normalised corrected signals: an "
                        "estimate, not quantitative (no relative sensitivity factors)",
                    )
                )
        return found

    def slice_planes(self, index: int) -> dict[str, np.ndarray]:
        """Every volume's plane of slice ``index`` on the common grids."""
        planes: dict[str, np.ndarray] = {}
        se_image = se_grid = None
        if self.image is not None and self.has_image is not None and self.has_image[index]:
            se_image = np.asarray(self.run.image(self.image)[index])
            se_grid = Grid.of(self.se_field, index)
            common = self.grids["se"]
            (rows, cols), residual = _split(common.offset_px(se_grid))
            self.records.se_placement[index] = (rows, cols)
            self.records.se_residual[index] = residual
            planes[SE_VOLUME] = _place(
                se_image.astype(np.float32), rows, cols, (common.height_px, common.width_px)
            )
        if self.raster is None or self.has_raster is None or not self.has_raster[index]:
            return planes
        counts = np.asarray(self.run.counts(self.raster)[index])
        sims_grid = Grid.of(self.sims_field, index)
        refinement = self._register(index, se_image, se_grid, sims_grid, counts)
        true_grid = sims_grid.shifted(refinement.row_px, refinement.col_px)
        common = self.grids["sims"]
        shape = (common.height_px, common.width_px)
        (rows, cols), residual = _split(common.offset_px(true_grid))
        self.records.sims_placement[index] = (rows, cols)
        self.records.sims_residual[index] = residual
        if se_image is not None and se_grid is not None:
            planes[SE_BINNED] = bin_image(se_image, se_grid, common.shifted(*residual))
        corrected: dict[str, np.ndarray] = {}
        for k, label in enumerate(self.peaks):
            planes[label] = _place(counts[k].astype(np.float32), rows, cols, shape)
            if not self.dead_time:
                continue
            n = self.dead_time["extractions_per_pixel"]
            max_ions = self.dead_time["max_ions_per_extraction"]
            corrected[label], capped = correct_saturation(counts[k], n, max_ions)
            if "duty_cycles" in self.dead_time:
                corrected[label] = correct_duty_cycle(
                    corrected[label], self.dead_time["duty_cycles"][k]
                )
            self.capped[k] += capped
            planes[label + CORRECTED] = _place(corrected[label], rows, cols, shape)
        if self.li:
            planes[LI_FRACTION] = _place(li_fraction(corrected), rows, cols, shape)
        return planes

    def _register(
        self,
        index: int,
        se_image: np.ndarray | None,
        se_grid: Grid | None,
        sims_grid: Grid,
        counts: np.ndarray,
    ) -> Refinement:
        if se_image is None or se_grid is None:
            return Refinement(0.0, 0.0, float("nan"), False, "no SE image")
        mapping = sims_to_se(sims_grid, se_grid)
        self.records.pixel_map[index] = (mapping.scale, mapping.offset_row, mapping.offset_col)
        refinement = register_slice(
            se_image,
            se_grid,
            counts.sum(axis=0, dtype=np.float64),
            sims_grid,
            self.options.max_shift_sims_px,
            self.options.min_correlation,
        )
        self.records.found[index] = (refinement.found_row_px, refinement.found_col_px)
        self.records.correlation[index] = refinement.correlation
        self.records.applied[index] = refinement.applied
        self.records.reason[index] = refinement.reason
        return refinement


def _fallback_dz_um(run: RunData) -> float:
    thickness = run.attrs.get("slice_thickness_nm")
    return float(thickness) / 1000.0 if thickness is not None else 1.0


def reconstruct(
    run_file: Path,
    out: Path,
    options: ReconstructOptions | None = None,
    progress: Progress | None = None,
    open_run: Callable[[Path], RunData] = RunData,
) -> Reconstruction:
    """Write ``out`` (a volumes file) from the finished run in ``run_file``, read through
    ``open_run`` (the run reader, or a test's variant of it).

    ``ValueError`` for a run that cannot be reconstructed as asked (the message says why)."""
    options = options or ReconstructOptions()
    notes: list[str] = []
    tick = progress or (lambda stage, done, total: None)
    with open_run(run_file) as run:
        assembler = _Assembler(run, options, notes)
        z_um = run.face_z_um
        even = even_z(z_um, assembler.missing, _fallback_dz_um(run))
        run_attrs = run.attrs
        attrs = {
            "run_file": run_file.name,
            "recipe_name": str(run_attrs.get("recipe_name", "")),
            "seed": int(run_attrs.get("seed", -1)),
            "run_status": str(run_attrs.get("status", "")),
            "fibsims_version": str(run_attrs.get("fibsims_version", "")),
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "image_product": assembler.image or "",
            "raster_product": assembler.raster or "",
        }
        volumes = assembler.volumes()
        with VolumeWriter(out, z_um, assembler.missing, even, assembler.grids, attrs) as writer:
            for name, grid, unit, description in volumes:
                writer.add(name, grid, unit, description)
            slices = run.slices
            for index in range(slices):
                if not assembler.missing[index]:
                    for name, plane in assembler.slice_planes(index).items():
                        writer.write("measured", name, index, plane)
                tick("registering and assembling slices", index + 1, slices)
            _resample(writer, even, [v[0] for v in volumes], tick)
            _write_records(writer, assembler, options, notes)
        result = Reconstruction(out, run.slices, int(assembler.missing.sum()), notes=notes)
    result.dead_time = dict(assembler.dead_time)
    applied = assembler.records.applied.astype(bool)
    result.refinements_applied = int(applied.sum())
    if applied.any():
        found = assembler.records.found[applied]
        result.refinement_rms_sims_px = float(np.sqrt(np.mean(np.sum(found**2, axis=1))))
    return result


def _resample(writer: VolumeWriter, even: EvenZ, names: list[str], tick: Progress) -> None:
    """Every volume onto the even planes, reading back at most two measured planes each."""
    cache: dict[tuple[str, int], np.ndarray] = {}
    for k, source in enumerate(even.sources):
        needed = even.needs(k)
        for key in [key for key in cache if key[1] not in needed]:
            del cache[key]
        for name in names:
            data = writer.file[f"measured/{name}"]
            planes = {}
            for index in needed:
                if (name, index) not in cache:
                    cache[name, index] = data[index]
                planes[index] = cache[name, index]
            writer.write("even", name, k, interpolate(source, planes, data.shape[1:]))
        tick("resampling onto even z", k + 1, even.count)


def _write_records(
    writer: VolumeWriter, assembler: _Assembler, options: ReconstructOptions, notes: list[str]
) -> None:
    if assembler.raster is not None:
        writer.record(
            "registration",
            assembler.records.datasets(),
            registration_attributes(options.max_shift_sims_px, options.min_correlation),
        )
        writer.record(
            "dead_time",
            {
                "peaks": list(assembler.peaks),
                "capped_pixels": assembler.capped,
            },
            {k: v for k, v in assembler.dead_time.items()},
        )
    writer.file.attrs["notes"] = json.dumps(notes)
