"""``fibsims validate`` and ``fibsims schema`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_the_shipped_recipes_validate():
    recipes = sorted(str(p) for p in (ROOT / "recipes").glob("*.yaml"))
    result = runner.invoke(app, ["validate", *recipes])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(recipes) >= 2


def test_a_negative_current_and_an_unknown_key_are_both_reported_with_lines(tmp_path):
    text = (ROOT / "recipes" / "quick.yaml").read_text()
    text = text.replace("current_na: 15,", "current_na: -15,")
    text = text.replace("limits: {max_hours: 2}", "limits: {max_hours: 2}\ncolour: blue")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    lines = text.splitlines()
    mill_line = next(i for i, x in enumerate(lines, 1) if "current_na: -15" in x)
    colour_line = next(i for i, x in enumerate(lines, 1) if x.startswith("colour"))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"slice.0.mill.current_na (line {mill_line})" in result.output
    assert f"colour (line {colour_line})" in result.output
    assert "Traceback" not in result.output


def test_the_schema_command_prints_json_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "properties" in schema and "slice" in schema["properties"]


def _quick_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = (ROOT / "recipes" / "quick.yaml").read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "variant.yaml"
    path.write_text(text)
    return path


def test_validate_prints_the_estimate_of_each_valid_recipe():
    result = runner.invoke(app, ["validate", str(ROOT / "recipes" / "nmc811-li-map.yaml")])
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[1]
    assert line.startswith("  estimate: 23.") and "for 400 slices" in line
    assert line.endswith("within limits.max_hours (30 h)")


def test_validate_without_preflight_passes_a_current_the_instrument_lacks(tmp_path):
    path = _quick_with(tmp_path, ("current_na: 15,", "current_na: 13.7,"))
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0


def test_validate_preflight_refuses_a_current_off_the_ladder_naming_the_nearest(tmp_path):
    path = _quick_with(tmp_path, ("current_na: 15,", "current_na: 13.7,"))
    result = runner.invoke(app, ["validate", "--preflight", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"FAIL {path}")
    assert (
        "problem: slice.0.mill.current_na: 13.7 nA is not on the column's current ladder; "
        "nearest: 4 nA, 15 nA" in result.output
    )


def test_validate_refuses_a_nanoampere_value_in_a_picoampere_field(tmp_path):
    path = _quick_with(tmp_path, ("current_pa: 100,", "current_pa: 0.1,"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "slice.2.se_image.current_pa (line" in result.output
    assert "must be at least 1 (got 0.1)" in result.output and "0.1 nA is 100 pA" in result.output


def test_validate_preflight_names_a_factor_of_1000_slip_in_the_unit_of_the_field(tmp_path):
    path = _quick_with(tmp_path, ("current_pa: 800,", "current_pa: 4,"))  # 4 nA meant
    result = runner.invoke(app, ["validate", "--preflight", str(path)])
    assert result.exit_code == 2
    assert "slice.3.sims_raster.current_pa: 4 pA is not on the column's current ladder" in (
        result.output
    )
    assert "did you mean current_pa: 4000 (4 nA, a factor of 1000 off)?" in result.output


def test_validate_preflight_refuses_a_run_longer_than_its_limit_with_both_numbers(tmp_path):
    path = _quick_with(tmp_path, ("slices: 6}", "slices: 60}"))
    result = runner.invoke(app, ["validate", "--preflight", str(path)])
    assert result.exit_code == 2
    assert "needs an estimated 2.3" in result.output and "more than the limit of 2 h" in (
        result.output
    )


def test_validate_preflight_shows_the_field_warnings_and_passes(tmp_path):
    result = runner.invoke(app, ["validate", "--preflight", str(ROOT / "recipes" / "quick.yaml")])
    assert result.exit_code == 0, result.output
    assert "preflight passed on 'sim'" in result.output


def test_validate_preflight_with_an_unknown_backend_fails_with_the_reason(tmp_path):
    quick = str(ROOT / "recipes" / "quick.yaml")
    result = runner.invoke(app, ["validate", "--preflight", "--instrument", "nope", quick])
    assert result.exit_code == 2
    assert "no instrument backend named 'nope'" in result.output
    assert "Traceback" not in result.output
