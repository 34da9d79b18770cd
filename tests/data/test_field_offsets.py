"""A step's field_center_um reaches the run file: each product's field centre carries it."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[2]


def test_each_product_records_its_own_field_centre(tmp_path):
    text = (ROOT / "recipes" / "quick.yaml").read_text()
    text = text.replace("slices: 6}", "slices: 2}").replace(
        "resolution: [64, 48], dwell_us: 50,",
        "resolution: [32, 24], field_width_um: 10, field_center_um: [2.5, -1], dwell_us: 50,",
    )
    assert "field_center_um" in text
    recipe = tmp_path / "offset.yaml"
    recipe.write_text(text)
    report = start_run(RunRequest(recipe, out=tmp_path / "run", progress=False))
    assert report.ok, report.summary
    with h5py.File(tmp_path / "run" / "run.h5") as f:
        se = f["entry/se_image/field_center_um"][()]
        sims = f["entry/sims_raster/field_center_um"][()]
        x_axis = f["entry/sims_raster/x"][()]
    np.testing.assert_allclose(sims - se, [[2.5, -1.0]] * 2)
    assert abs(x_axis.mean() - sims[0, 0]) < 1e-9
