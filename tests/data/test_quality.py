"""The 7Li map is scored against the truth slice by slice, and a run without truth is not."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.quality import li_map_quality
from fibsims.data.slice_file import PEAK_DTYPE


def _run_file(path: Path, counts: np.ndarray, truth: np.ndarray | None) -> Path:
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "fibsims-run"
        f["sims_raster/counts"] = counts
        table = np.zeros(2, dtype=PEAK_DTYPE)
        table["label"] = [b"6Li+", b"7Li+"]
        f["sims_raster/peak_table"] = table
        if truth is not None:
            f["truth/sims_raster/li_fraction"] = truth
    return path


def test_a_map_proportional_to_the_truth_scores_one_and_noise_lowers_it(tmp_path):
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 0.25, size=(3, 16, 16)).astype(np.float32)
    exact = np.stack([truth * 10, truth * 1000], axis=1)
    assert li_map_quality(_run_file(tmp_path / "a.h5", exact, truth))[
        "li_map_pearson_r"
    ] == pytest.approx(1.0)
    noisy = rng.poisson(np.stack([truth * 10, truth * 40], axis=1))
    score = li_map_quality(_run_file(tmp_path / "b.h5", noisy, truth))
    assert 0.2 < score["li_map_pearson_r"] < 0.99 and score["slices_scored"] == 3
    assert score["li_map_pearson_r_min"] <= score["li_map_pearson_r"]


def test_a_run_without_truth_has_no_score(tmp_path):
    counts = np.ones((2, 2, 4, 4))
    assert li_map_quality(_run_file(tmp_path / "c.h5", counts, None)) is None


def _run_with_labels(path: Path, li7: np.ndarray, truth: np.ndarray, labels: np.ndarray) -> Path:
    _run_file(path, np.stack([li7 * 0.08, li7], axis=1), truth)
    with h5py.File(path, "r+") as f:
        f["truth/sims_raster/labels"] = labels
    return path


def test_within_particles_keeps_only_3x3_bins_wholly_inside_nmc(tmp_path):
    """A map that only knows particles from pores scores high overall and ~0 inside them; a map
    that follows the Li inside the particles scores high there too."""
    rng = np.random.default_rng(1)
    shape = (2, 30, 30)
    labels = np.ones(shape, dtype=np.uint8)
    labels[:, :, 15:] = 0  # half the field is pore
    labels[:, 4, 4] = 0  # one crack pixel spoils its 3x3 bin, not its neighbours
    li = np.where(labels == 1, rng.uniform(0.1, 0.25, shape), 0.0).astype(np.float32)
    phase_only = np.where(labels == 1, 100.0, 0.0) + rng.normal(0, 3, shape)
    follows = li * 1000 + rng.normal(0, 3, shape)
    only = li_map_quality(_run_with_labels(tmp_path / "a.h5", phase_only, li, labels))
    good = li_map_quality(_run_with_labels(tmp_path / "b.h5", follows, li, labels))
    assert only["li_map_pearson_r"] > 0.9 and abs(only["li_map_pearson_r_within_particles"]) < 0.4
    assert good["li_map_pearson_r_within_particles"] > 0.95
    assert good["slices_scored_within_particles"] == 2
    # the crack's bin is left out: a map wrong only there does not move the score
    spoiled = follows.copy()
    spoiled[:, 3:6, 3:6] = 1e6
    assert li_map_quality(_run_with_labels(tmp_path / "c.h5", spoiled, li, labels))[
        "li_map_pearson_r_within_particles"
    ] == pytest.approx(good["li_map_pearson_r_within_particles"])
