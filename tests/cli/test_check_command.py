"""``fibsims check``: a lab's recipe CI (validate, preflight, estimate, a twin pass), with a
JUnit report; every phase of every recipe is reported, and any failure exits 1."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.service import recipe_check
from fibsims.service.session import RunReport

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = QUICK.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def test_good_and_bad_recipes_are_each_reported_by_phase_in_junit(tmp_path):
    off_ladder = _variant(tmp_path, "off-ladder.yaml", "current_na: 15,", "current_na: 13.7,")
    invalid = _variant(tmp_path, "invalid.yaml", "slices: 6}", "slices: 0}")
    report = tmp_path / "ci" / "junit.xml"
    report.parent.mkdir()
    args = ["check", str(QUICK), str(off_ladder), str(invalid), "--junit", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "1 of 3 recipes passed" in result.output
    assert "ok   twin_pass  3 slices completed on the twin" in result.output
    assert "FAIL preflight  slice.0.mill.current_na: 13.7 nA" in result.output
    suites = ET.parse(report).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [str(QUICK), str(off_ladder), str(invalid)]
    assert [(s.get("failures"), s.get("skipped")) for s in suites] == [
        ("0", "0"),
        ("1", "1"),
        ("1", "3"),
    ]
    failure = suites[1].find("testcase[@name='preflight']/failure")
    assert failure is not None and "nearest: 4 nA, 15 nA" in failure.get("message")
    validate = suites[2].find("testcase[@name='validate']/failure")
    assert validate is not None and "volume.slices" in validate.text


def test_strict_fails_a_recipe_on_its_preflight_warnings(tmp_path):
    square = _variant(tmp_path, "square.yaml", "resolution: [64, 48]", "resolution: [64, 64]")
    assert runner.invoke(app, ["check", str(square)]).exit_code == 0, "a warning alone passes"
    result = runner.invoke(app, ["check", "--strict", str(square)])
    assert result.exit_code == 1
    assert "FAIL preflight  warning: slice.3.sims_raster: the 64 x 64 px raster" in result.output


def test_a_twin_pass_that_does_not_complete_fails_the_recipe(tmp_path, monkeypatch):
    def failing(request):
        return RunReport("failed", None, {"reason": "hardware fault at slice 1"})  # type: ignore[arg-type]

    monkeypatch.setattr(recipe_check, "start_run", failing)
    result = runner.invoke(app, ["check", str(QUICK)])
    assert result.exit_code == 1
    assert "FAIL twin_pass  the 3-slice pass on the twin ended hardware fault at slice 1" in (
        result.output
    )


def test_kept_twin_passes_are_ordinary_run_folders(tmp_path):
    keep = tmp_path / "kept"
    result = runner.invoke(app, ["check", str(QUICK), "--slices", "2", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    status = runner.invoke(app, ["status", str(keep / "quick"), "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["slices_completed"] == 2


def test_a_junit_path_that_cannot_be_written_is_a_message_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["check", str(QUICK), "--junit", str(blocker / "j.xml")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_a_junit_path_that_is_a_folder_is_refused_before_any_recipe_is_checked(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    result = runner.invoke(app, ["check", str(QUICK), "--junit", str(folder)])
    assert result.exit_code == 2, result.output
    assert f"--junit {folder} is a folder" in result.output
    assert "Errno" not in result.output and "twin_pass" not in result.output


def test_a_junit_path_in_a_missing_folder_names_the_folder_to_create(tmp_path):
    result = runner.invoke(app, ["check", str(QUICK), "--junit", str(tmp_path / "no" / "j.xml")])
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'no'} does not exist" in result.output
    assert "Errno" not in result.output and "twin_pass" not in result.output


def test_a_keep_path_that_is_a_file_is_a_keep_message_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["check", str(QUICK), "--keep", str(blocker)])
    assert result.exit_code == 2, result.output
    assert f"--keep {blocker} is a file" in result.output
    assert "--out" not in result.output and "twin_pass" not in result.output


def test_a_recipe_with_sites_passes_its_twin_pass_site_by_site(tmp_path):
    keep = tmp_path / "kept"
    two_sites = ROOT / "recipes" / "two-sites.yaml"
    result = runner.invoke(app, ["check", str(two_sites), "--slices", "1", "--keep", str(keep)])
    assert result.exit_code == 0, result.output
    assert "ok   twin_pass" in result.output
    for site in ("a", "b"):
        status = runner.invoke(app, ["status", str(keep / "two-sites" / "sites" / site), "--json"])
        assert status.exit_code == 0, status.output
        assert json.loads(status.output)["slices_completed"] == 1
