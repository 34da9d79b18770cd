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
