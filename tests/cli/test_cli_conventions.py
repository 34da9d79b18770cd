"""The command line's conventions: --version/-V, -h as --help everywhere, short flags for the
common options, ``backends``, ``validate --json`` and ``--set``."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_package_version(flag):
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0
    assert result.output.strip() == f"fibsims {version('fibsims')}"


@pytest.mark.parametrize(
    "command", [[], ["run"], ["status"], ["validate"], ["sim", "serve"], ["keys", "generate"]]
)
def test_dash_h_is_help_everywhere(command):
    result = runner.invoke(app, [*command, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_run_takes_short_flags_for_out_seed_instrument_and_quiet(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(QUICK), "-o", str(out), "-s", "3", "-i", "sim", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["seed"] == 3


def test_an_unknown_backend_is_a_message_naming_the_installed_ones(tmp_path):
    result = runner.invoke(app, ["run", str(QUICK), "-o", str(tmp_path / "r"), "-i", "nope"])
    assert result.exit_code == 2
    assert "no instrument backend named 'nope' (installed: " in result.stderr
    installed = result.stderr.split("(installed: ")[1].split(")")[0].split(", ")
    assert "sim" in installed  # beside any other installed backend (openfibsem)


def test_backends_lists_the_twin_with_its_ladder():
    result = runner.invoke(app, ["backends"])
    assert result.exit_code == 0, result.output
    twin = result.output[result.output.index("sim: fibsims_twin.factory:create_instrument") :]
    assert "current ladder:" in twin and "ground truth:   yes" in twin
    assert "beam shift:     +-50 um per axis" in twin  # what preflight checks the fiducial with
    assert "devices:        stage, column, se_detector, tof, vacuum, costs, truth" in twin
    records = json.loads(runner.invoke(app, ["backends", "--json"]).output)
    (sim,) = [r for r in records if r["name"] == "sim"]  # beside openfibsem, when installed
    assert sim["opened"]


def test_validate_json_is_one_document_with_a_record_per_recipe(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(QUICK.read_text().replace("current_na: 15,", "current_na: -15,"))
    missing = tmp_path / "missing.yaml"
    result = runner.invoke(app, ["validate", "--json", str(QUICK), str(bad), str(missing)])
    assert result.exit_code == 2
    document = json.loads(result.output)
    assert document["ok"] is False
    good, wrong, absent = document["recipes"]
    assert good["ok"] and good["recipe"] == "quick" and good["problems"] == []
    assert good["summary"]["slices"] == 6 and good["summary"]["steps"][0] == "mill"
    assert not wrong["ok"] and wrong["summary"] is None
    (problem,) = wrong["problems"]
    assert problem["field"] == "slice.0.mill.current_na" and isinstance(problem["line"], int)
    assert "greater than 0" in problem["message"]
    assert not absent["ok"] and absent["problems"]


def test_validate_json_of_only_valid_recipes_exits_0_and_shows_overrides():
    result = runner.invoke(app, ["validate", "--json", str(QUICK), "--set", "volume.slices=9"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)["recipes"]
    assert record["summary"]["slices"] == 9 and record["overrides"] == ["volume.slices=9"]


def test_validate_and_estimate_take_set():
    result = runner.invoke(app, ["validate", str(QUICK), "--set", "volume.slices=0"])
    assert result.exit_code == 2
    assert "volume.slices (from --set volume.slices=0): must be at least 1" in result.output
    result = runner.invoke(app, ["validate", str(QUICK), "--set", "oops"])
    assert result.exit_code == 2 and "FAIL --set" in result.output
    estimate = runner.invoke(app, ["estimate", str(QUICK), "--set", "volume.slices=60", "--json"])
    assert estimate.exit_code == 0, estimate.output
    assert json.loads(estimate.output)["slices"] == 60


def test_run_with_set_records_it_and_resume_keeps_the_overridden_recipe(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["run", str(QUICK), "-o", str(out), "-q", "--set", "volume.slices=4",
         "--fault", "hardware_fault@slice=2,step=mill"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert json.loads((out / "run.json").read_text())["overrides"] == ["volume.slices=4"]
    assert (out / "recipe.yaml").read_text() == QUICK.read_text(), "the file as given"
    status = runner.invoke(app, ["status", str(out)])
    assert "overrides:  --set volume.slices=4" in status.output
    assert "2/4 slices" in status.output
    resumed = runner.invoke(app, ["resume", str(out), "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert resumed.output.startswith("completed: 4/4 slices")


def test_a_bad_set_on_run_is_exit_2_and_leaves_no_folder(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(QUICK), "-o", str(out), "--set", "slice.7.mill=1"])
    assert result.exit_code == 2
    assert "slice is a list of 4 items: give an index 0..3" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_validate_json_carries_each_estimate_and_with_preflight_its_verdict(tmp_path):
    off = tmp_path / "off.yaml"
    off.write_text(QUICK.read_text().replace("current_na: 15,", "current_na: 13.7,"))
    plain = runner.invoke(app, ["validate", "--json", str(QUICK), str(off)])
    assert plain.exit_code == 0, plain.output
    records = json.loads(plain.output)["recipes"]
    assert all(r["estimate"]["simulated_seconds"] > 0 for r in records)
    assert all("preflight" not in r for r in records)
    checked = runner.invoke(app, ["validate", "--json", "--preflight", str(QUICK), str(off)])
    assert checked.exit_code == 2
    document = json.loads(checked.output)
    good, bad = document["recipes"]
    assert good["ok"] and good["preflight"] == {
        "instrument": "sim",
        "ok": True,
        "problems": [],
        "warnings": [],
    }
    assert not bad["ok"] and not document["ok"]
    assert bad["preflight"]["problems"] == [
        "slice.0.mill.current_na: 13.7 nA is not on the column's current ladder; "
        "nearest: 4 nA, 15 nA"
    ]
