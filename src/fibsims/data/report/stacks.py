"""One pass over the run's slices: the volumes, sections and truth sums every figure draws on.

Why one pass: run.h5 is stored one slice per (compressed) chunk, so a slice costs the same to
read whether one row or all of it is wanted. The pass reads each slice once and keeps what the
report needs: the SE image and the 7Li+ map on the analysis grid (:mod:`.grid`), the share of
each grid voxel's SE pixels classified NMC811 at full resolution (what particles are segmented
from, :mod:`.segment`; the SE thresholds are set first from a few slices), full-resolution xz
and yz sections of the SE stack, the truth on the same grids, and the running sums of the
7Li+-against-truth correlation.

Registration: every slice is placed in the frame of the first slice with data from the stored
field centres (``RunData.field(name).center_um``, shared by the SE image and the raster of a
slice), shifted by a fraction of a pixel where they moved. Missing slices are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu

from fibsims.data.report.grid import (
    Binning,
    bin_axis,
    block_mean,
    choose_binning,
    nearest_indices,
    plane_z,
    z_groups,
)
from fibsims.data.report.progress import Progress
from fibsims.data.report.segment import Thresholds, classify, find_thresholds
from fibsims.data.report.sources import Sources
from fibsims.data.report.stats import Pearson
from fibsims.data.run_reader import Field, RunData

NMC = 1  # the truth's label of the active material (0 epoxy, 1 NMC811, 2 binder, 3 vacuum)
SUBPIXEL = 0.01  # shifts smaller than this (in pixels) are not worth an interpolation
THRESHOLD_SLICES = 5
"""Slices, spread over the stack, whose SE values set the thresholds before the pass."""


@dataclass
class Volume:
    """Values on a regular grid: (planes, rows, columns), NaN where no slice had data."""

    data: np.ndarray
    x_um: np.ndarray
    y_um: np.ndarray
    z_um: np.ndarray


@dataclass
class Sections:
    """Full-resolution SE sections across the stack: one row per slice."""

    xz: np.ndarray
    """(slices, W): the row of each slice at ``y_cut_um``."""
    yz: np.ndarray
    """(slices, H): the column of each slice at ``x_cut_um``."""
    x_um: np.ndarray
    y_um: np.ndarray
    z_um: np.ndarray
    x_cut_um: float
    y_cut_um: float


@dataclass
class Stacks:
    binning: Binning
    groups: list[range]
    se: Volume | None = None
    thresholds: Thresholds | None = None
    """The SE image's three-class thresholds; None if it has too little contrast."""
    nmc_share: Volume | None = None
    """Share of each SE grid voxel's pixels classified NMC811 grey at full resolution."""
    sections: Sections | None = None
    li: Volume | None = None
    truth_nmc: Volume | None = None
    """Fraction of each SE grid voxel the truth labels NMC811."""
    truth_li: Volume | None = None
    """The true Li atomic fraction on the 7Li+ map's pixels."""
    li_vs_truth: Pearson | None = None
    """Every 7Li+ pixel of every slice against its true Li fraction."""
    li_vs_truth_nmc: Pearson | None = None
    """The same, over the pixels the truth labels NMC811 only: the heterogeneity within it."""


class ZStack:
    """Sums slices into the planes of their z group; NaN pixels are left out of the mean."""

    def __init__(self, groups: list[range], shape: tuple[int, ...]) -> None:
        self.plane = {i: g for g, members in enumerate(groups) for i in members}
        self.total = np.zeros((len(groups), *shape), dtype=np.float32)
        self.count = np.zeros((len(groups), *shape), dtype=np.uint16)

    def add(self, index: int, values: np.ndarray) -> None:
        good = np.isfinite(values)
        plane = self.plane[index]
        self.total[plane][good] += values[good]
        self.count[plane] += good

    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.total / self.count, np.nan).astype(np.float32)


def _reference(field: Field, missing: np.ndarray) -> np.ndarray:
    present = np.flatnonzero(~missing)
    return field.center_um[present[0] if present.size else 0]


def _shifted(image: np.ndarray, shift_px: np.ndarray, order: int = 1) -> np.ndarray:
    """``image`` moved by ``shift_px`` (x, y) pixels onto the reference field (NaN outside)."""
    if not np.all(np.isfinite(shift_px)) or np.max(np.abs(shift_px)) < SUBPIXEL:
        return image
    shift = (shift_px[1], shift_px[0]) if image.ndim == 2 else (shift_px[0],)
    return ndi.shift(image, shift, order=order, mode="constant", cval=np.nan)


def _offset_px(field: Field, index: int, reference: np.ndarray, binned: int = 1) -> np.ndarray:
    """Where slice ``index``'s field sits from the reference field, in (binned) pixels."""
    return (field.center_um[index] - reference) / (field.pixel_size_nm / 1000.0 * binned)


def choose_cuts(run: RunData, image: str, missing: np.ndarray) -> tuple[int, int]:
    """The row and column for the xz and yz sections: the ones, in the middle half of the
    middle slice, that cross the most solid (brighter than Otsu's threshold), so the
    sections go through particles rather than along the epoxy between them."""
    present = np.flatnonzero(~missing)
    if present.size == 0:
        height, width = run.image(image).shape[1:]
        return height // 2, width // 2
    middle = np.asarray(run.image(image)[present[present.size // 2]], dtype=np.float32)
    solid = middle > threshold_otsu(middle)
    height, width = solid.shape
    rows = solid[height // 4 : 3 * height // 4].mean(axis=1)
    cols = solid[:, width // 4 : 3 * width // 4].mean(axis=0)
    return height // 4 + int(np.argmax(rows)), width // 4 + int(np.argmax(cols))


def spread(missing: np.ndarray, count: int) -> list[int]:
    """Up to ``count`` slices with data, evenly spread over the stack."""
    present = np.flatnonzero(~missing)
    if present.size <= count:
        return [int(i) for i in present]
    picks = np.linspace(0, present.size - 1, count).round().astype(int)
    return [int(i) for i in present[np.unique(picks)]]


def se_thresholds(run: RunData, image: str, missing: np.ndarray) -> Thresholds | None:
    """Three-class thresholds of the full-resolution SE values of a few slices."""
    data = run.image(image)
    values = [np.asarray(data[i], dtype=np.float32) for i in spread(missing, THRESHOLD_SLICES)]
    return find_thresholds(np.stack(values)) if values else None


def _pitch_nm(run: RunData, z_um: np.ndarray) -> float:
    steps = np.diff(z_um[np.isfinite(z_um)])
    if steps.size:
        return float(np.median(steps)) * 1000.0
    return float(run.attrs.get("slice_thickness_nm", 25.0))


class _SEReader:
    """The SE part of the pass: the grid volume, the sections, and the truth's NMC811 share."""

    def __init__(self, run: RunData, name: str, binning: Binning, groups: list[range]) -> None:
        self.name = name
        self.data = run.image(name)
        self.field = run.field(name)
        self.k = binning.xy
        self.missing = run.missing
        self.reference = _reference(self.field, self.missing)
        self.labels = run.truth(name).get("labels")
        height, width = self.data.shape[1:]
        self.x, self.y = self.field.x_um(0), self.field.y_um(0)
        shape = (height // self.k, width // self.k)
        self.volume = ZStack(groups, shape)
        self.truth = ZStack(groups, shape) if self.labels is not None else None
        self.thresholds = se_thresholds(run, name, self.missing)
        self.share = ZStack(groups, shape) if self.thresholds is not None else None
        self.row, self.col = choose_cuts(run, name, self.missing)
        n = run.slices
        self.xz = np.full((n, width), np.nan, dtype=np.float32)
        self.yz = np.full((n, height), np.nan, dtype=np.float32)

    def read(self, i: int) -> None:
        image = np.asarray(self.data[i], dtype=np.float32)
        offset = _offset_px(self.field, i, self.reference)
        self.volume.add(i, _shifted(block_mean(image, self.k), offset / self.k))
        if self.share is not None and self.thresholds is not None:
            grey = classify(image, self.thresholds)
            self.share.add(i, _shifted(block_mean(grey, self.k), offset / self.k))
        row, _ = nearest_indices(self.field.y_um(i), np.array([self.y[self.row]]))
        col, _ = nearest_indices(self.field.x_um(i), np.array([self.x[self.col]]))
        self.xz[i] = _shifted(image[row[0]], offset[:1])
        self.yz[i] = _shifted(image[:, col[0]], offset[1:])
        if self.truth is not None and self.labels is not None:
            share = block_mean(np.asarray(self.labels[i]) == NMC, self.k)
            self.truth.add(i, _shifted(share, offset / self.k))

    def finish(self, stacks: Stacks, z_um: np.ndarray) -> None:
        x, y = bin_axis(self.x, self.k), bin_axis(self.y, self.k)
        planes = plane_z(z_um, stacks.groups)
        stacks.se = Volume(self.volume.mean(), x, y, planes)
        stacks.thresholds = self.thresholds
        if self.share is not None:
            stacks.nmc_share = Volume(self.share.mean(), x, y, planes)
        if self.truth is not None:
            stacks.truth_nmc = Volume(self.truth.mean(), x, y, planes)
        stacks.sections = Sections(
            self.xz, self.yz, self.x, self.y, z_um, float(self.x[self.col]), float(self.y[self.row])
        )


class _LiReader:
    """The 7Li+ part of the pass: the z-binned map, its truth, and the correlation sums."""

    def __init__(self, run: RunData, name: str, peak: int, groups: list[range]) -> None:
        self.counts = run.counts(name)
        self.peak = peak
        self.field = run.field(name)
        self.reference = _reference(self.field, run.missing)
        truth = run.truth(name)
        self.truth_li, self.truth_labels = truth.get("li_fraction"), truth.get("labels")
        shape = tuple(self.counts.shape[-2:])
        self.volume = ZStack(groups, shape)
        self.truth = ZStack(groups, shape) if self.truth_li is not None else None
        self.overall = Pearson() if self.truth_li is not None else None
        self.nmc = (
            Pearson() if self.truth_li is not None and self.truth_labels is not None else None
        )

    def read(self, i: int) -> None:
        li = np.asarray(self.counts[i, self.peak], dtype=np.float32)
        offset = _offset_px(self.field, i, self.reference)
        self.volume.add(i, _shifted(li, offset))
        if self.truth is None or self.truth_li is None or self.overall is None:
            return
        true_li = np.asarray(self.truth_li[i], dtype=np.float32)
        self.truth.add(i, _shifted(true_li, offset))
        self.overall.add(li, true_li)
        if self.nmc is not None and self.truth_labels is not None:
            inside = np.asarray(self.truth_labels[i]) == NMC
            self.nmc.add(li[inside], true_li[inside])

    def finish(self, stacks: Stacks, z_um: np.ndarray) -> None:
        x, y = self.field.x_um(0), self.field.y_um(0)
        planes = plane_z(z_um, stacks.groups)
        stacks.li = Volume(self.volume.mean(), x, y, planes)
        if self.truth is not None:
            stacks.truth_li = Volume(self.truth.mean(), x, y, planes)
            stacks.li_vs_truth, stacks.li_vs_truth_nmc = self.overall, self.nmc


def read_stacks(run: RunData, sources: Sources, progress: Progress) -> Stacks:
    """Read every slice once (see the module docstring)."""
    n, missing = run.slices, run.missing
    z_um = np.where(missing, np.nan, run.face_z_um)
    se_nm = run.field(sources.image).pixel_size_nm if sources.image else None
    li_nm = run.field(sources.raster).pixel_size_nm if sources.li and sources.raster else None
    binning = choose_binning(se_nm or li_nm or 100.0, li_nm, _pitch_nm(run, z_um), n)
    stacks = Stacks(binning, z_groups(n, binning.z))
    readers: list[_SEReader | _LiReader] = []
    if sources.image:
        readers.append(_SEReader(run, sources.image, binning, stacks.groups))
    if sources.li and sources.raster and sources.li_peak is not None:
        readers.append(_LiReader(run, sources.raster, sources.li_peak, stacks.groups))
    for i in range(n):
        progress("reading slices", i, n)
        if not missing[i]:
            for reader in readers:
                reader.read(i)
    progress("reading slices", n, n)
    for reader in readers:
        reader.finish(stacks, z_um)
    return stacks
