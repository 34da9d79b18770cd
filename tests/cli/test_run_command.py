"""End to end: ``fibsims run recipes/quick.yaml`` on the twin writes a complete run folder,
and the same seed gives the same datasets."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


def _run(out: Path, *extra: str):
    return runner.invoke(app, ["run", str(QUICK), "--out", str(out), "--no-progress", *extra])


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "A"
    result = _run(out, "--seed", "1")
    assert result.exit_code == 0, result.output
    return out


def test_the_run_prints_status_duration_and_where_the_data_is(tmp_path):
    result = _run(tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "completed: 6/6 slices" in result.output
    assert "instrument time" in result.output and str(tmp_path / "run") in result.output


def test_the_run_folder_holds_the_run_file_log_and_summary(quick_run):
    names = {p.name for p in quick_run.iterdir()}
    assert {"run.h5", "log.jsonl", "summary.json", "journal.jsonl", "recipe.yaml"} <= names
    assert "slices" not in names, "per-slice files are consolidated away once complete"


def test_the_summary_reports_status_counts_and_time_by_step_kind(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["slices_planned"] == summary["slices_completed"] == 6
    kinds = {"mill", "rocking_polish", "se_image", "sims_raster", "autofocus"}
    assert set(summary["step_seconds"]) == kinds
    assert summary["simulated_seconds"] == pytest.approx(
        sum(summary["step_seconds"].values()), abs=0.01
    )
    assert summary["wall_seconds"] > 0
    assert Path(summary["files"]["run"]).name == "run.h5"
    assert summary["seed"] == 1


def test_the_run_file_stacks_every_slice_with_its_metadata(quick_run):
    with h5py.File(quick_run / "run.h5", "r") as f:
        assert f.attrs["format"] == "fibsims-run" and f.attrs["status"] == "completed"
        assert f.attrs["slices_completed"] == 6
        assert "sims_raster" in f.attrs["recipe"]
        assert f["entry/se_image/data"].shape == (6, 144, 192)
        assert f["entry/se_image/data"].dtype == np.uint16
        assert f["entry/sims_raster/counts"].shape == (6, 5, 48, 64)
        labels = [row.decode() for row in f["entry/sims_raster/peak_table"]["label"]]
        assert labels == ["6Li+", "7Li+", "55Mn+", "58Ni+", "59Co+"]
        assert f["entry/sims_raster/sum_spectrum"].shape[0] == 6
        slices = f["entry/slices"][()]
        assert list(slices["index"]) == list(range(6))
        assert np.allclose(slices["face_z_um"], 0.025 * np.arange(1, 7))
        assert np.all(np.diff(slices["started_s"]) > 0)
        steps = f["entry/steps"][()]
        assert set(steps["kind"]) == {
            b"mill",
            b"rocking_polish",
            b"se_image",
            b"sims_raster",
            b"autofocus",
        }
        mills = steps[steps["kind"] == b"mill"]
        assert np.allclose(mills["current_na"], 15.0)
        assert np.all(f["entry/se_image/current_na"][()] == pytest.approx(0.1))


def test_the_log_has_one_json_line_per_event_ending_with_run_finished(quick_run):
    lines = [json.loads(x) for x in (quick_run / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["event"] == "run_finished" and lines[-1]["status"] == "completed"
    assert sum(1 for x in lines if x["event"] == "slice_committed") == 6
    assert all("wall_time" in x and "t_s" in x for x in lines)


def test_the_same_seed_gives_identical_datasets(quick_run, tmp_path, same_datasets, datasets_of):
    assert _run(tmp_path / "B", "--seed", "1").exit_code == 0
    assert len(datasets_of(quick_run / "run.h5")) > 10
    same_datasets(quick_run / "run.h5", tmp_path / "B" / "run.h5")


def test_another_seed_gives_other_noise(quick_run, tmp_path, datasets_of):
    assert _run(tmp_path / "C", "--seed", "2").exit_code == 0
    a, c = datasets_of(quick_run / "run.h5"), datasets_of(tmp_path / "C" / "run.h5")
    assert not np.array_equal(a["entry/se_image/data"], c["entry/se_image/data"])
    timing = ["index", "face_z_um", "started_s", "finished_s", "duration_s"]
    assert np.array_equal(a["entry/slices"][timing], c["entry/slices"][timing]), (
        "timing ignores the seed"
    )


def test_a_folder_that_already_holds_a_run_is_refused(quick_run):
    result = _run(quick_run)
    assert result.exit_code == 2
    assert "already holds a run" in result.output


def test_a_missing_recipe_is_a_clear_error_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "nope.yaml" in result.output


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "variant.yaml"
    text = QUICK.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_a_current_off_the_ladder_is_refused_before_any_folder_is_made(tmp_path):
    recipe = _variant(tmp_path, "current_na: 15,", "current_na: 12,")
    out = tmp_path / "never"
    result = runner.invoke(app, ["run", str(recipe), "--out", str(out), "--no-progress"])
    assert result.exit_code == 2
    assert "slice.0.mill.current_na: 12 nA is not on the column's current ladder" in result.output
    assert "nearest: 4 nA, 15 nA" in result.output
    assert not out.exists()


def test_a_recipe_without_a_twin_sample_tells_what_to_add(tmp_path):
    recipe = _variant(
        tmp_path,
        "sample: {name: NMC811 cathode, twin: {phantom: nmc811, seed: 811, porosity: 0.40}}",
        "sample: {name: NMC811 cathode}",
    )
    out = tmp_path / "never"
    result = runner.invoke(app, ["run", str(recipe), "--out", str(out), "--no-progress"])
    assert result.exit_code == 2
    assert "twin" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_an_unknown_instrument_backend_lists_the_installed_ones(tmp_path):
    result = runner.invoke(
        app, ["run", str(QUICK), "--out", str(tmp_path / "x"), "--instrument", "helios"]
    )
    assert result.exit_code == 2
    assert "no instrument backend named 'helios'" in result.output and "sim" in result.output
