"""A product of a step on an ``every:`` schedule exists on some slices only: run.h5 records
which, the reader says so, and sims.h5 and the volumes leave the other slices empty."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.reconstruction import reconstruct
from fibsims.data.run_reader import RunData
from fibsims.service.runs import RunRequest, start_run

QUICK = Path(__file__).parents[2] / "recipes" / "quick.yaml"
SIMS = """  - sims_raster:    {current_pa: 800, resolution: [64, 48], dwell_us: 50, frames: 4,
                     polarity: positive, peaks: [6Li+, 7Li+, 55Mn+, 58Ni+, 59Co+]}
"""
EVERY_2 = """every:
  - slices: 2
    offset: 1
    do: {sims_raster: {name: li_map, current_pa: 800, resolution: [32, 32], dwell_us: 50,
                       frames: 2, peaks: [6Li+, 7Li+, 59Co+]}}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The quick recipe on 4 slices with its SIMS raster every 2nd slice (1 and 3) instead."""
    folder = tmp_path_factory.mktemp("scheduled")
    text = QUICK.read_text()
    assert SIMS in text and "every: [{slices: 3, do: autofocus}]\n" in text
    text = text.replace(SIMS, "").replace("every: [{slices: 3, do: autofocus}]\n", EVERY_2)
    recipe = folder / "sims-every-2.yaml"
    recipe.write_text(text.replace("slices: 6}", "slices: 4}"))
    out = folder / "run"
    request = RunRequest(recipe_path=recipe, out=out, seed=1, progress=False, tell=lambda t: None)
    assert start_run(request).ok
    return out


def test_the_run_file_records_which_slices_have_a_scheduled_product(run: Path) -> None:
    with RunData(run / "run.h5") as data:
        assert data.products("raster") == ["li_map"]
        assert data.acquired("li_map").tolist() == [False, True, False, True]
        assert data.acquired("se_image").tolist() == [True, True, True, True]
        counts = data.counts("li_map")
        assert counts.shape == (4, 3, 32, 32)
        assert counts[1].sum() > 0 and counts[3].sum() > 0
        assert counts[0].sum() == 0 and counts[2].sum() == 0, "fill values, not data"
        assert np.isnan(data.per_slice("li_map", "duration_s")[[0, 2]]).all()
        position = data.step_position("li_map")
        steps = data.steps[()]
        made = steps[steps["position"] == position]
        assert sorted(set(made["slice"].tolist())) == [1, 3]
        assert {k.decode() if isinstance(k, bytes) else k for k in made["kind"]} == {"sims_raster"}
    with h5py.File(run / "run.h5") as f:
        z = f["entry/li_map/z"][()]
        assert np.isnan(z[[0, 2]]).all() and np.isfinite(z[[1, 3]]).all()


def test_sims_file_holds_the_scheduled_raster_with_empty_slices_between(run: Path) -> None:
    with h5py.File(run / "sims.h5") as f:
        assert "li_map" in f.attrs["Configuration File Contents"].decode()
        times = f["TimingData/BufTimes"][()]
        assert np.isnan(times[[0, 2]]).all() and np.isfinite(times[[1, 3]]).all()


def test_the_volumes_have_sims_planes_only_where_the_raster_ran(run: Path) -> None:
    out = run / "volumes.h5"
    reconstruct(run / "run.h5", out)
    with h5py.File(out) as f:
        li = f["measured/7Li+"][()]
        se = f["measured/se"][()]
    assert np.isnan(li[[0, 2]]).all() and np.isfinite(li[[1, 3]]).any(axis=(1, 2)).all()
    assert np.isfinite(se).any(axis=(1, 2)).all(), "the SE image is on every slice"
