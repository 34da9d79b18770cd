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


def test_a_dry_run_applies_the_set_overrides_the_run_would(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["run", "--dry-run", str(QUICK), "--out", str(out), "--set", "mill.x=1"],
    )
    assert result.exit_code == 2, result.output
    assert "--set" in result.output and "Traceback" not in result.output
    result = runner.invoke(
        app,
        ["run", "--dry-run", str(QUICK), "-o", str(out), "--set", "slice.2.se_image.current_pa=4"],
    )
    assert result.exit_code == 2, result.output
    assert "problem: slice.2.se_image.current_pa: 4 pA is not on" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_text("x"), "is a file, not a folder"),
        (lambda p: (p.mkdir(), (p / "run.json").write_text("{}")), "already holds a run"),
    ],
    ids=["out-is-a-file", "out-holds-a-run"],
)
def test_a_dry_run_refuses_an_out_the_run_would_refuse(tmp_path, make, says):
    out = tmp_path / "taken"
    make(out)
    result = runner.invoke(app, ["run", "--dry-run", str(QUICK), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"problem: --out {out}" in result.output or f"problem: {out}" in result.output
    assert says in result.output and "would be refused" in result.output


def test_a_dry_run_of_sites_with_set_is_refused_as_the_run_is(tmp_path):
    two_sites = ROOT / "recipes" / "two-sites.yaml"
    out = tmp_path / "run"
    args = [str(two_sites), "-o", str(out), "--set", "volume.slices=2"]
    real = runner.invoke(app, ["run", *args])
    assert real.exit_code == 2 and not out.exists(), real.output
    result = runner.invoke(app, ["run", "--dry-run", *args])
    assert result.exit_code == 2, result.output
    assert "--set does not reach a multi-site run" in result.output
    assert "would be refused" in result.output
