"""Issue 12's acceptance, as a user types it: a current the column does not have and a run
longer than its limit are both refused before anything moves, naming what would work."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fibsims.cli.app import app

QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"
runner = CliRunner()


def _run(tmp_path: Path, old: str, new: str):
    text = QUICK.read_text()
    assert old in text
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text.replace(old, new))
    out = tmp_path / "run"
    return runner.invoke(app, ["run", str(recipe), "-o", str(out), "-q"]), out


def test_a_recipe_asking_for_13_7_na_is_refused_naming_the_nearest_currents(tmp_path):
    result, out = _run(tmp_path, "current_na: 15,", "current_na: 13.7,")
    assert result.exit_code == 2, result.output
    assert (
        "slice.0.mill.current_na: 13.7 nA is not on the column's current ladder; "
        "nearest: 4 nA, 15 nA" in result.output
    )
    assert not out.exists(), "refused before a folder, a stage move or a beam"


def test_a_recipe_longer_than_its_time_limit_is_refused_with_both_numbers(tmp_path):
    result, out = _run(tmp_path, "slices: 6}", "slices: 60}")
    assert result.exit_code == 2, result.output
    assert "limits.max_hours: the run needs an estimated 2.3" in result.output
    assert "more than the limit of 2 h" in result.output
    assert not out.exists()
