"""Runs with the closed loops on, through the run service: a run stopped and resumed keeps
its loops' context and repeats the data of one never stopped; auto contrast tunes the
detector; a SIMS raster that erodes more than a slice is warned about; the estimate is the
run's own time."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.run_reader import RunData
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run

pytestmark = pytest.mark.slow

LOOPS = (
    ("resolution: [192, 144]", "resolution: [768, 576]"),
    ("current_pa: 800", "current_pa: 300"),
    ("limits: {max_hours: 2}", "limits: {max_hours: 2}\nfiducial: {current_na: 4}"),
)


def _run(recipe: Path, out: Path, *faults: str, notes: list | None = None):
    said = notes if notes is not None else []
    return start_run(
        RunRequest(recipe, out=out, seed=1, progress=False, faults=faults, tell=said.append)
    )


def test_a_run_with_the_loops_resumed_after_a_stop_repeats_the_uninterrupted_data(
    quick_variant, same_datasets, tmp_path
):
    recipe = quick_variant(10, *LOOPS)
    whole = _run(recipe, tmp_path / "whole")
    assert whole.ok and whole.summary["quality"]["images_scored"] == 10
    stopped = _run(recipe, tmp_path / "cut", "hardware_fault@slice=5,step=sims_raster")
    assert stopped.status == "paused"
    resumed = resume_run(ResumeRequest(tmp_path / "cut", progress=False, tell=lambda t: None))
    assert resumed.ok
    same_datasets(whole.layout.run_file, resumed.layout.run_file)
    with h5py.File(whole.layout.run_file) as a, h5py.File(resumed.layout.run_file) as b:
        contexts = [json.loads(f["entry/slices"].attrs["context_json"]) for f in (a, b)]
    assert contexts[0] == contexts[1], "the loops' context carried across the stop"
    assert contexts[0][-1]["fiducial"]["slopes"], "the run followed its fiducial"
    with RunData(whole.layout.run_file) as run:
        field, truth = run.field("se_image"), run.truth("se_image")["geometry"][()]
    error_um = field.center_um - truth[:, 3:5]  # truth: where the field sat in the sample
    error_px = np.hypot(*(error_um - error_um[0]).T) / (field.pixel_size_nm / 1000)
    # registration scatter: max 0.86 px over the 10 slices at the old 0.4 um3/nC, 1.15 px with
    # the Yamamura-Tawara rate (the slices' timing, hence drift and noise draws, moved)
    assert error_px.max() < 1.5, "run.h5's field centres are where the images truly were"


def test_auto_contrast_fills_the_range_and_logs_before_and_after(quick_variant, tmp_path):
    recipe = quick_variant(
        3, ("every: [{slices: 3, do: autofocus}]", "every: [{slices: 2, do: auto_contrast}]")
    )
    report = _run(recipe, tmp_path / "r")
    assert report.ok
    events = [json.loads(line) for line in (tmp_path / "r" / "log.jsonl").open()]
    tuned = [
        e["metadata"]
        for e in events
        if e.get("event") == "step_finished" and e.get("kind") == "auto_contrast"
    ]
    assert len(tuned) == 2
    assert tuned[0]["contrast_before"] == 0.5 and tuned[0]["contrast"] != 0.5
    with h5py.File(report.layout.run_file) as f:
        high = float(f["entry/se_image/data"][2].max())
    assert 0.6 * 65535 < high < 65535, "the face spans most of the range, unclipped"


def test_a_sims_raster_eroding_more_than_a_slice_is_warned_about_with_the_numbers(
    quick_variant, tmp_path
):
    said: list[str] = []
    recipe = quick_variant(2, ("dwell_us: 50, frames: 4", "dwell_us: 500, frames: 20"))
    _run(recipe, tmp_path / "r", notes=said)
    (warning,) = [line for line in said if line.startswith("warning: slice.3.sims_raster sput")]
    assert "slice.3.sims_raster sputters about" in warning and "25 nm slice" in warning


def test_the_estimate_is_the_time_the_run_takes(quick_variant, tmp_path):
    from fibsims.engine.estimate import estimate_plan
    from fibsims.engine.plan import compile_plan
    from fibsims.instrument import InstrumentOptions, open_instrument
    from fibsims.recipe import load_recipe

    path = quick_variant(8, *LOOPS)
    recipe = load_recipe(path)
    twin = open_instrument("sim", InstrumentOptions(1, recipe.sample.model_dump(mode="json")))
    estimate = estimate_plan(compile_plan(recipe), twin.costs)
    report = _run(path, tmp_path / "r")
    assert report.summary["simulated_seconds"] == pytest.approx(estimate.total_s, rel=0.005)
