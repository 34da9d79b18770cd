"""``fibsims run --dry-run``: preflight and estimate with the run's own options; nothing moves
and no folder is made."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.service import disk_check

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


def test_a_dry_run_of_a_good_recipe_says_it_would_start_and_makes_no_folder(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--dry-run", str(QUICK), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("quick: 0.2")
    assert "dry run: the run would start on 'sim'; nothing moved" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("current_na: 15,", "current_na: 13.7,"), "nearest: 4 nA, 15 nA"),
        (("slices: 6}", "slices: 60}"), "more than the limit of 2 h"),
    ],
    ids=["off-the-ladder", "over-max-hours"],
)
def test_a_dry_run_of_a_refused_recipe_exits_2_with_the_problem(tmp_path, edit, says):
    path = tmp_path / "bad.yaml"
    path.write_text(QUICK.read_text().replace(*edit))
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "--dry-run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert says in result.output and "would be refused" in result.output
    assert not out.exists()


def test_a_dry_run_checks_the_disk_the_run_would_write_to(tmp_path, monkeypatch):
    monkeypatch.setattr(disk_check, "free_bytes", lambda folder: 1000)
    result = runner.invoke(app, ["run", "--dry-run", str(QUICK), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "problem: disk: the run needs about" in result.output
    assert "are free where" in result.output
