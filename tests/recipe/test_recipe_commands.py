"""The ``recipe validate`` and ``recipe schema`` command functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fibsims.cli.recipe_commands import schema, validate

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "nmc811-li-map.yaml"
BAD = FIXTURES / "bad-current-and-unknown-key.yaml"


def test_validate_prints_ok_with_a_summary_and_returns_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validate([GOOD]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"ok   {GOOD}: nmc811-li-map: 400 slices x 25 nm over 20 x 15 um, 4 steps per slice "
        "(mill, rocking_polish, se_image, sims_raster), autofocus every 10",
        "  estimate: 24.85 h for 400 slices, 1.71 GiB, within limits.max_hours (30 h)",
    ]


def test_validate_prints_fail_and_each_problem_and_returns_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert validate([BAD]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL {BAD}",
        "  slice.0.mill.current_na (line 7): must be greater than 0 (got -15); "
        "a beam current in nA, up to 2500, the most a plasma FIB column gives",
        "  slice.1.se_image.brightness (line 8): unknown field; allowed: name, current_pa, "
        "resolution, dwell_us, frames, field_width_um, field_height_um, field_center_um",
    ]


def test_validate_checks_every_file_and_fails_if_any_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.yaml"
    assert validate([GOOD, missing, GOOD]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["ok", "", "FAIL", "", "ok", ""]
    assert lines[2:4] == [f"FAIL {missing}", "  no such file"]


def test_validate_prints_brackets_and_long_lines_verbatim(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "brackets.yaml"
    path.write_text(GOOD.read_text().replace("porosity: 0.30", "porosity: [bold]"))
    assert validate([path]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert '(got ["bold"])' in lines[1]


def test_validate_without_files_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate([]) == 2
    assert "no recipe files" in capsys.readouterr().out


def test_schema_prints_the_json_schema_and_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema() == 0
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert printed["properties"]["slice"]["items"]["oneOf"][0]["required"] == ["mill"]
    assert out.startswith('{\n  "$schema"')
