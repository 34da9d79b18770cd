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
