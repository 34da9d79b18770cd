"""Quality metrics of a run scored against ground truth (twin runs with ``--truth``).

``li_map_pearson_r``: per slice, the Pearson correlation between the 7Li+ count map and the
true Li atomic fraction on the same SIMS pixels (averaged over the depth the raster sputtered);
reported as the mean over slices, with the worst slice. It says how faithfully the instrument
settings map lithium, which is what a what-if run on the twin is for.

``li_map_pearson_r_within_particles``: the same correlation inside the NMC particles only, so
particles against pores (which any recipe resolves) do not count: both maps are binned 3 x 3
on the SIMS pixels (the trailing rows and columns that do not fill a bin are dropped) and only
bins whose nine pixels are all NMC in the truth labels are kept (a bin that touches a pore,
crack or binder would again score the phase map). Pearson r over those bins per slice, the
mean over slices with at least ``MIN_PARTICLE_BINS`` bins. It tells a recipe that resolves the
heterogeneity inside the particles from one that only sees particles against pores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fibsims.data.run_reader import RunData

LI_PEAK = "7Li+"
NMC_LABEL = 1  # the truth labels' NMC811 (docs/data.md)
BIN_PX = 3
MIN_PARTICLE_BINS = 10  # fewer wholly-NMC bins make no correlation worth reporting


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    if a.std() == 0 or b.std() == 0:
        return None  # a uniform map has no correlation to speak of
    return float(np.corrcoef(a, b)[0, 1])


def _bin(image: np.ndarray, size: int) -> np.ndarray:
    """Sum over size x size blocks (float64), dropping the rows and columns that do not fill
    one."""
    h, w = (image.shape[0] // size) * size, (image.shape[1] // size) * size
    blocks = np.asarray(image[:h, :w], dtype=np.float64).reshape(h // size, size, w // size, size)
    return blocks.sum(axis=(1, 3))


def _pearson_within_particles(
    counts: np.ndarray, truth: np.ndarray, labels: np.ndarray
) -> float | None:
    """Pearson r of 3 x 3 bins of the map and the truth, over bins wholly inside NMC."""
    inside = _bin(labels == NMC_LABEL, BIN_PX) == BIN_PX * BIN_PX
    if np.count_nonzero(inside) < MIN_PARTICLE_BINS:
        return None
    return _pearson(_bin(counts, BIN_PX)[inside], _bin(truth, BIN_PX)[inside])


def _valid(scores: list[float | None]) -> list[float]:
    return [s for s in scores if s is not None]


def li_map_quality(run_file: Path, raster: str | None = None) -> dict[str, Any] | None:
    """Scores of the 7Li+ map against truth, or None when the run recorded no truth for it.
    ``raster`` defaults to ``sims_raster``, or the run's first raster (:meth:`RunData.product`)."""
    with RunData(run_file) as run:
        raster = raster or run.product("raster", "sims_raster")
        recorded = run.truth(raster)
        truth = recorded.get("li_fraction")
        if truth is None or raster not in run.products("raster"):
            return None
        labels = [peak.label for peak in run.peaks(raster)]
        if LI_PEAK not in labels:
            return None
        counts = run.counts(raster)
        peak = labels.index(LI_PEAK)
        phases = recorded.get("labels")
        scores, within = [], []
        for i in np.flatnonzero(run.acquired(raster)):  # a scheduled raster: its slices
            li_map, li_truth = counts[i, peak], truth[i]
            scores.append(_pearson(li_map, li_truth))
            if phases is not None:
                within.append(_pearson_within_particles(li_map, li_truth, phases[i]))
    valid = _valid(scores)
    if not valid:
        return None
    result: dict[str, Any] = {
        "li_map_pearson_r": round(float(np.mean(valid)), 4),
        "li_map_pearson_r_min": round(float(np.min(valid)), 4),
        "slices_scored": len(valid),
    }
    inside = _valid(within)
    if inside:
        result["li_map_pearson_r_within_particles"] = round(float(np.mean(inside)), 4)
        result["slices_scored_within_particles"] = len(inside)
    return result


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values)))) if values.size else 0.0


def loop_quality(run_file: Path, image: str | None = None) -> dict[str, Any] | None:
    """The closed loops scored against the twin's truth (the geometry of every SE image):

    - ``drift_residual_px_rms``: how far each image's field centre sat, in the sample, from
      where the first image's did, in SE pixels (0: perfectly drift-corrected);
    - ``drift_uncorrected_px_rms``: how far the sample itself drifted over the same time;
    - ``slice_thickness_nm_mean`` and ``slice_thickness_nm_rms_error``: the true pitch between
      consecutive faces, and its RMS deviation from the recipe's thickness;
    - ``face_z_measurement_nm_rms``: the measured face against the true one (runs that follow
      a fiducial), after removing the constant offset of the reference;
    - ``focus_error_um_rms``: the defocus of the SE images.

    None when the run recorded no geometry (hardware, or a run from before it was recorded).
    ``image`` defaults to ``se_image``, or the run's first image (:meth:`RunData.product`).
    """
    with RunData(run_file) as run:
        image = image or run.product("image", "se_image")
        geometry = run.truth(image).get("geometry")
        if geometry is None or image not in run.products("image") or geometry.shape[0] < 2:
            return None
        pixel_nm = run.product_attrs(image).get("pixel_size_nm")
        thickness_nm = run.attrs.get("slice_thickness_nm")
        if pixel_nm is None or thickness_nm is None:
            return None  # a run file written without them (a damaged run.json): no scale
        g = geometry[()]
        keep = ~np.isnan(g).any(axis=1) & run.acquired(image)
        pixel_um, thickness_um = float(pixel_nm) / 1000.0, float(thickness_nm) / 1000.0
        measured = run.face_z_um[keep]
    g = g[keep]
    if len(g) < 2:
        return None
    field = g[:, 3:5] - g[0, 3:5]
    drift = g[:, 0:2] - g[0, 0:2]
    pitch = np.diff(g[:, 5])
    offset = measured - g[:, 5]
    return {
        "drift_residual_px_rms": round(_rms(np.hypot(*field.T)) / pixel_um, 3),
        "drift_uncorrected_px_rms": round(_rms(np.hypot(*drift.T)) / pixel_um, 3),
        "slice_thickness_nm_mean": round(float(pitch.mean()) * 1000, 3),
        "slice_thickness_nm_rms_error": round(_rms(pitch - thickness_um) * 1000, 3),
        "face_z_measurement_nm_rms": round(_rms(offset - offset.mean()) * 1000, 3),
        "focus_error_um_rms": round(_rms(g[:, 6]), 4),
        "images_scored": len(g),
    }
