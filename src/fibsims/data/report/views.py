"""Which faces and sections the figures show, cut from the run and the pass's volumes.

Why a module: the SE and 7Li+ orthoslices, the overlay and the segmentation figure must show
the same depths and the same sections, so a reader can look from one figure to the next.
The SE faces are read again at full resolution (three slices); the 7Li+ views come from the
z-binned map, lightly smoothed, because a single raster of a few counts per pixel is
mostly shot noise to the eye.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from fibsims.data.report.figures.orthoslices import Orthoslices, Plane
from fibsims.data.report.stacks import Stacks, Volume
from fibsims.data.run_reader import RunData

DEPTHS = (1 / 6, 1 / 2, 5 / 6)
"""Where the xy faces are taken, as fractions of the stack's slices."""
LI_SMOOTH_PX = 0.7


@dataclass(frozen=True)
class Depths:
    slices: list[int]
    """The slice of each xy face."""
    planes: list[int]
    """The grid plane holding each of those slices."""


def choose_depths(stacks: Stacks, missing: np.ndarray) -> Depths:
    present = np.flatnonzero(~missing)
    if present.size == 0:
        present = np.arange(missing.size)
    slices = sorted({int(present[int(f * present.size)]) for f in DEPTHS})
    planes = [next(g for g, members in enumerate(stacks.groups) if i in members) for i in slices]
    return Depths(slices, planes)


def se_views(run: RunData, image: str, stacks: Stacks, depths: Depths) -> Orthoslices:
    sections = stacks.sections
    assert sections is not None, "the pass read the SE image"
    field = run.field(image)
    faces = [
        (
            float(sections.z_um[i]),
            Plane(np.asarray(run.image(image)[i], dtype=np.float32), field.x_um(i), field.y_um(i)),
        )
        for i in depths.slices
    ]
    return Orthoslices(
        xy=faces,
        xz=Plane(sections.xz, sections.x_um, sections.z_um),
        yz=Plane(sections.yz.T, sections.z_um, sections.y_um),
        x_cut_um=sections.x_cut_um,
        y_cut_um=sections.y_cut_um,
    )


def smoothed(volume: Volume) -> np.ndarray:
    """The 7Li+ map smoothed in each plane for display (NaN kept where there was no data)."""
    data = volume.data
    known = np.isfinite(data)
    filled = np.where(known, data, 0.0)
    weight = ndi.gaussian_filter(known.astype(np.float32), (0, LI_SMOOTH_PX, LI_SMOOTH_PX))
    values = ndi.gaussian_filter(filled, (0, LI_SMOOTH_PX, LI_SMOOTH_PX))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(known, values / weight, np.nan).astype(np.float32)


def li_views(stacks: Stacks, depths: Depths, cuts: tuple[float, float] | None) -> Orthoslices:
    """The 7Li+ orthoslices, cut where the SE ones are (or through the middle, SE-less)."""
    li = stacks.li
    assert li is not None, "the pass read the 7Li+ map"
    data = smoothed(li)
    x_cut, y_cut = cuts if cuts else (float(np.mean(li.x_um)), float(np.mean(li.y_um)))
    row = int(np.argmin(np.abs(li.y_um - y_cut)))
    col = int(np.argmin(np.abs(li.x_um - x_cut)))
    faces = [(float(li.z_um[p]), Plane(data[p], li.x_um, li.y_um)) for p in depths.planes]
    return Orthoslices(
        xy=faces,
        xz=Plane(data[:, row, :], li.x_um, li.z_um),
        yz=Plane(data[:, :, col].T, li.z_um, li.y_um),
        x_cut_um=float(li.x_um[col]),
        y_cut_um=float(li.y_um[row]),
    )
