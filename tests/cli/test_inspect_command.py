"""``fibsims inspect PATH`` summarises a run folder or one of its files: recipe and overrides,
state, slices, durations, incidents, and every dataset with shape, dtype and units. What it
cannot read is a clear message and exit 2, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("inspect") / "run"
    args = ["run", str(QUICK), "-o", str(out), "-q", "--set", "volume.slices=3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def _inspect(*args: str):
    return runner.invoke(app, ["inspect", *args])


def test_a_run_folder_shows_recipe_overrides_state_slices_durations_and_files(run_folder):
    result = _inspect(str(run_folder))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "recipe:     quick (seed 811, instrument sim)" in text
    assert "overrides:  --set volume.slices=3" in text
    assert "state:      completed" in text and "slices:     3/3 committed" in text
    assert "durations:  instrument " in text and ", wall " in text
    assert "incidents:  none" in text
    assert f"{run_folder / 'run.h5'} (run, " in text and f"{run_folder / 'sims.h5'} (sims, " in text
    se = next(line for line in text.splitlines() if "entry/se_image/data " in line)
    assert "3 x 144 x 192" in se and "uint16" in se and "counts" in se


def test_json_lists_every_dataset_with_shape_dtype_and_units(run_folder):
    result = _inspect(str(run_folder), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    run = report["run"]
    assert run["recipe"] == "quick" and run["overrides"] == ["volume.slices=3"]
    assert run["slices_completed"] == run["slices_planned"] == 3
    assert run["durations"]["instrument_s"] > 0 and run["durations"]["wall_s"] > 0
    files = {Path(f["path"]).name: f for f in report["files"]}
    assert set(files) == {"run.h5", "sims.h5"}
    datasets = {d["path"]: d for d in files["run.h5"]["datasets"]}
    assert datasets["entry/sims_raster/counts"]["shape"] == [3, 5, 48, 64]
    assert datasets["entry/sims_raster/counts"]["dtype"] == "uint32"
    assert datasets["entry/se_image/x"]["units"] == "um"
    assert "face_z_um" in datasets["entry/slices"]["fields"]
    assert files["run.h5"]["attrs"]["recipe_overrides"] == "volume.slices=3"


def test_a_file_in_the_folder_is_inspected_with_its_run(run_folder):
    result = _inspect(str(run_folder / "sims.h5"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["run"]["state"] == "completed"
    assert [f["kind"] for f in report["files"]] == ["sims"]
    summary = json.loads(_inspect(str(run_folder / "summary.json"), "--json").output)
    assert summary["files"][0]["summary"]["status"] == "completed"


def test_a_run_file_copied_out_of_its_folder_says_what_it_holds_itself(run_folder, tmp_path):
    copy = shutil.copy(run_folder / "run.h5", tmp_path / "copy.h5")
    result = _inspect(str(copy))
    assert result.exit_code == 0, result.output
    assert (
        "recipe:     quick" in result.output
        and "overrides:  --set volume.slices=3" in result.output
    )
    assert "slices:     3/3 committed" in result.output


def test_a_torn_file_is_exit_2_naming_it(run_folder, tmp_path):
    torn = tmp_path / "run.h5"
    torn.write_bytes((run_folder / "run.h5").read_bytes()[:4000])
    result = _inspect(str(torn))
    assert result.exit_code == 2
    assert f"{torn} cannot be read as HDF5" in result.stderr and "torn or damaged" in result.stderr
    assert "Traceback" not in result.output


def test_a_foreign_hdf5_file_is_exit_2(tmp_path):
    foreign = tmp_path / "other.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = [1, 2, 3]
    result = _inspect(str(foreign))
    assert result.exit_code == 2
    assert "is an HDF5 file but not one fibsims writes" in result.stderr


def test_a_torn_summary_is_exit_2(run_folder, tmp_path):
    folder = shutil.copytree(run_folder, tmp_path / "copy")
    (folder / "summary.json").write_text('{"status": "compl')
    result = _inspect(str(folder / "summary.json"))
    assert result.exit_code == 2 and "cannot be read as JSON" in result.stderr


def test_a_damaged_file_in_a_folder_is_listed_and_the_rest_still_shown(run_folder, tmp_path):
    folder = shutil.copytree(run_folder, tmp_path / "copy")
    (folder / "volumes.h5").write_bytes(b"not hdf5 at all")
    result = _inspect(str(folder))
    assert result.exit_code == 0, result.output
    assert f"{folder / 'volumes.h5'}: DAMAGED: " in result.output
    assert "slices:     3/3 committed" in result.output


@pytest.mark.parametrize("what", ["missing", "not-a-run", "journal"])
def test_what_is_not_a_run_or_its_file_is_exit_2_saying_what_to_give(what, run_folder, tmp_path):
    path = {
        "missing": tmp_path / "nothing",
        "not-a-run": tmp_path,
        "journal": run_folder / "journal.jsonl",
    }[what]
    result = _inspect(str(path))
    assert result.exit_code == 2
    assert "give a run folder or a file in it" in result.stderr
    assert "Traceback" not in result.output


def test_a_folder_with_a_damaged_run_json_is_exit_2(run_folder, tmp_path):
    folder = shutil.copytree(run_folder, tmp_path / "copy")
    (folder / "run.json").write_text("{")
    result = _inspect(str(folder))
    assert result.exit_code == 2 and "run.json is damaged" in result.stderr


def test_a_run_file_with_an_empty_dataset_is_listed_not_a_crash(tmp_path):
    odd = tmp_path / "run.h5"
    with h5py.File(odd, "w") as f:
        f.attrs["format"] = "fibsims-run"
        f.create_dataset("nothing", shape=None, dtype="f4")  # a null dataspace: no shape
        f["x_um"] = [1.0, 2.0]
    result = _inspect(str(odd), "--json")
    assert result.exit_code == 0, result.output
    (listed,) = json.loads(result.stdout)["files"]
    datasets = {d["path"]: d for d in listed["datasets"]}
    assert datasets["nothing"]["shape"] == [] and datasets["x_um"]["shape"] == [2]
