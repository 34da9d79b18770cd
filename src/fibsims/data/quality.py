"""Quality metrics of a run scored against ground truth (twin runs with ``--truth``).

``li_map_pearson_r``: per slice, the Pearson correlation between the 7Li+ count map and the
true Li atomic fraction on the same SIMS pixels (averaged over the depth the raster sputtered);
reported as the mean over slices, with the worst slice. It says how faithfully the instrument
settings map lithium, which is what a what-if run on the twin is for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fibsims.data.run_reader import RunData

LI_PEAK = "7Li+"


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    if a.std() == 0 or b.std() == 0:
        return None  # a uniform map has no correlation to speak of
    return float(np.corrcoef(a, b)[0, 1])


def li_map_quality(run_file: Path, raster: str = "sims_raster") -> dict[str, Any] | None:
    """Scores of the 7Li+ map against truth, or None when the run recorded no truth for it."""
    with RunData(run_file) as run:
        truth = run.truth(raster).get("li_fraction")
        if truth is None or raster not in run.products("raster"):
            return None
        labels = [peak.label for peak in run.peaks(raster)]
        if LI_PEAK not in labels:
            return None
        counts = run.counts(raster)
        peak = labels.index(LI_PEAK)
        scores = [_pearson(counts[i, peak], truth[i]) for i in range(counts.shape[0])]
    valid = [s for s in scores if s is not None]
    if not valid:
        return None
    return {
        "li_map_pearson_r": round(float(np.mean(valid)), 4),
        "li_map_pearson_r_min": round(float(np.min(valid)), 4),
        "slices_scored": len(valid),
    }


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values)))) if values.size else 0.0


def loop_quality(run_file: Path, image: str = "se_image") -> dict[str, Any] | None:
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
    """
    with RunData(run_file) as run:
        geometry = run.truth(image).get("geometry")
        if geometry is None or image not in run.products("image") or geometry.shape[0] < 2:
            return None
        pixel_nm = run.product_attrs(image).get("pixel_size_nm")
        thickness_nm = run.attrs.get("slice_thickness_nm")
        if pixel_nm is None or thickness_nm is None:
            return None  # a run file written without them (a damaged run.json): no scale
        g = geometry[()]
        keep = ~np.isnan(g).any(axis=1) & ~run.missing
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
