"""``fibsims report DIR`` on a sweep folder: the comparison report through the command, ``--best``,
and every way a sweep folder can be unreadable (a message naming the file and the fix, exit 2,
no traceback, nothing written) or incomplete (a report that says what is missing)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.cli.test_report_command import cli
from tests.data.sweep_report.sweep_folders import make_sweep
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep-cli") / "sweep")


@pytest.fixture
def folder(sweep: Path, tmp_path: Path) -> Path:
    target = tmp_path / "sweep"
    shutil.copytree(sweep, target, ignore=shutil.ignore_patterns("report"))
    return target


def report(folder: Path, *flags: str):
    return runner.invoke(cli(), ["report", str(folder), "--no-progress", *flags])


def maps(folder: Path) -> list[str]:
    return json.loads((folder / "report" / "report.json").read_text())["maps"]


def test_the_command_writes_the_sweep_report(folder):
    result = report(folder)
    assert result.exit_code == 0, result.output
    index = folder / "report" / "index.html"
    assert str(index) in result.output and index.is_file()
    assert "2 figures in" in result.output
    assert "sweep comparison" in index.read_text(encoding="utf-8")
    assert len(maps(folder)) == 3, "three best by default"
    assert "no row in sweep.csv yet" in result.output, "the notes are printed"


def test_best_n_is_a_flag(folder):
    result = report(folder, "--best", "2")
    assert result.exit_code == 0, result.output
    assert len(maps(folder)) == 2
    assert report(folder, "--best", "0").exit_code == 2, "at least one"


def test_best_on_a_run_folder_is_a_note(tmp_path, sweep):
    run = sweep / "variants" / "f1-s1"
    target = tmp_path / "run"
    shutil.copytree(run, target)
    result = report(target, "--best", "2")
    assert result.exit_code == 0, result.output
    assert "--best is for a sweep folder" in result.output


# -- unreadable: exit 2 ------------------------------------------------------------------------
def _manifest(folder: Path) -> dict:
    return json.loads((folder / "sweep.json").read_text())


def _rewrite(folder: Path, change: Callable[[dict], object]) -> None:
    data = _manifest(folder)
    change(data)
    (folder / "sweep.json").write_text(json.dumps(data))


def _not_json(folder: Path) -> None:
    text = (folder / "sweep.json").read_text()
    (folder / "sweep.json").write_text(text[: len(text) // 2])


def _newer_format(folder: Path) -> None:
    _rewrite(folder, lambda d: d.__setitem__("format", "fibsims-sweep/2"))


def _another_format(folder: Path) -> None:
    _rewrite(folder, lambda d: d.__setitem__("format", "something-else/1"))


def _no_objective(folder: Path) -> None:
    _rewrite(folder, lambda d: d.pop("objective"))


def _variant_without_run_dir(folder: Path) -> None:
    _rewrite(folder, lambda d: d["variants"][1].pop("run_dir"))


def _bad_direction(folder: Path) -> None:
    _rewrite(folder, lambda d: d.__setitem__("direction", "up"))


def _no_manifest(folder: Path) -> None:
    (folder / "sweep.json").unlink()


def _no_table(folder: Path) -> None:
    (folder / "sweep.csv").unlink()


def _torn_table(folder: Path) -> None:
    text = (folder / "sweep.csv").read_text()
    (folder / "sweep.csv").write_text(text[: text.rindex("\n", 0, len(text) - 1) + 12])


def _not_a_table(folder: Path) -> None:
    (folder / "sweep.csv").write_text("name,value\na,1\n")


def _text_in_a_number(folder: Path) -> None:
    text = (folder / "sweep.csv").read_text()
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[7] = "soon"  # instrument_hours
    lines[1] = ",".join(cells)
    (folder / "sweep.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("damage", "file", "says"),
    [
        (_not_json, "sweep.json", "is not JSON (line"),
        (_newer_format, "sweep.json", "'fibsims-sweep/2' is not 'fibsims-sweep/1'"),
        (_another_format, "sweep.json", "not a fibsims sweep file"),
        (_no_objective, "sweep.json", "lacks objective"),
        (_variant_without_run_dir, "sweep.json", "variants[1] lacks run_dir"),
        (_bad_direction, "sweep.json", "neither 'max' nor 'min'"),
        (_no_manifest, "sweep.json", "is missing"),
        (_no_table, "sweep.csv", "is missing"),
        (_torn_table, "sweep.csv", "line 6 has"),
        (_not_a_table, "sweep.csv", "is not a sweep table"),
        (_text_in_a_number, "sweep.csv", "line 2: instrument_hours is 'soon'"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_an_unreadable_sweep_is_a_message_naming_the_file_and_exit_2(folder, damage, file, says):
    damage(folder)
    result = report(folder)
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "error:" in output and says in output, output
    assert str(folder / file) in output, "the file is named"
    assert "fibsims sweep" in output or "version" in output or "not a" in output, "the fix"
    assert "Traceback" not in result.output
    assert not (folder / "report").exists(), "nothing was written"
    assert not list(folder.glob(".report*")), "no build left over"


# -- incomplete: a report that says what is missing --------------------------------------------
def test_a_missing_preview_is_a_note_not_a_failure(folder):
    for preview in (folder / "variants").glob("*/preview"):
        shutil.rmtree(preview)
    result = report(folder)
    assert result.exit_code == 0, result.output
    assert "preview/li7.npy is missing" in result.output
    assert maps(folder) == []


def test_a_truth_map_on_other_pixels_is_left_out(folder):
    for truth in (folder / "variants").glob("*/preview/li7_truth.npy"):
        np.save(truth, np.zeros((3, 3), dtype=np.float32))
    result = report(folder)
    assert result.exit_code == 0, result.output
    assert "is not on the map's pixels" in result.output
    assert len(maps(folder)) == 3


def test_no_done_variant_is_a_report_that_says_so(folder):
    text = (folder / "sweep.csv").read_text().replace(",done,", ",failed,")
    (folder / "sweep.csv").write_text(text)
    result = report(folder)
    assert result.exit_code == 0, result.output
    assert "No variant is done" in result.output
    assert "0 figures" in result.output


def test_the_real_app_offers_best():
    from fibsims.cli.app import app

    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0 and "--best" in result.output and "sweep" in result.output
