"""`fibsims estimate`: a recipe's time, dose and data from the backend's timing models, agreeing
with the run it predicts; bad input is a message and exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.cli.estimate_plain import PlainArguments, plain_arguments
from fibsims.cli.root import estimate_app
from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _estimate(*args: str):
    return runner.invoke(app, ["estimate", *args])


def test_the_estimate_agrees_with_the_simulated_run_within_2_percent(tmp_path):
    recipe = ROOT / "recipes" / "quick.yaml"
    result = _estimate(str(recipe), "--json")
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.output)
    run = start_run(RunRequest(recipe, out=tmp_path / "run", progress=False))
    assert run.ok
    assert estimate["simulated_seconds"] == pytest.approx(
        run.summary["simulated_seconds"], rel=0.02
    )
    assert estimate["slices"] == 6 and estimate["within_max_hours"] is True
    assert set(estimate["step_seconds"]) >= {"mill", "rocking_polish", "se_image", "sims_raster"}
    assert estimate["ion_dose_nc"] > 0 and estimate["data_bytes"] > 0


def test_the_default_recipe_is_estimated_at_about_23_hours():
    result = _estimate(str(ROOT / "recipes" / "nmc811-li-map.yaml"))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("nmc811-li-map: 23.") and "400 slices" in first
    assert "within limits.max_hours (30 h)" in result.output


def test_an_invalid_recipe_is_a_message_and_exit_2(tmp_path):
    text = (ROOT / "recipes" / "quick.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("slices: 6}", "slices: -1}"))
    result = _estimate(str(path))
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "volume.slices" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            ("voltage_kv: 30}", "voltage_kv: 30, stage_tilt_deg: 85}"),
            "instrument.stage_tilt_deg: 85 deg is outside the stage's -15 to 60 deg",
        ),
        (
            ("current_na: 15,", "current_na: 13.7,"),
            "slice.0.mill.current_na: 13.7 nA is not on the column's current ladder; "
            "nearest: 4 nA, 15 nA",
        ),
    ],
    ids=["unreachable-tilt", "current-off-the-ladder"],
)
def test_a_recipe_the_instrument_cannot_run_is_estimated_with_its_problems_and_exit_2(
    tmp_path, edit, says
):
    text = (ROOT / "recipes" / "quick.yaml").read_text()
    assert edit[0] in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(*edit))
    result = _estimate(str(path))
    assert result.exit_code == 2, result.output
    assert f"problem: {says}" in result.output
    assert result.output.startswith("quick: ")
    as_json = _estimate(str(path), "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.output)["problems"] == [says]


def test_an_unknown_backend_is_named_with_the_installed_ones():
    result = _estimate(str(ROOT / "recipes" / "quick.yaml"), "--instrument", "nosuch")
    assert result.exit_code == 2
    assert "nosuch" in result.output and "sim" in result.output


def test_a_multi_site_recipe_is_estimated_as_its_sites_one_after_another(tmp_path):
    from fibsims.service import sites

    recipe = ROOT / "recipes" / "two-sites.yaml"
    result = _estimate(str(recipe), "--json")
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.output)
    assert [s["name"] for s in estimate["sites"]] == ["a", "b"]
    assert estimate["slices"] == sum(s["slices"] for s in estimate["sites"]) == 7
    report = sites.start(RunRequest(recipe, out=tmp_path / "run", progress=False))
    assert report.ok
    ended_s = json.loads((tmp_path / "run" / "sites" / "b" / "summary.json").read_text())
    assert estimate["simulated_seconds"] == pytest.approx(ended_s["simulated_seconds"], rel=0.02)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        [],
        ["--jsn", "x.yaml"],
        ["x.yaml", "--set"],
        ["a.yaml", "b.yaml"],
        ["--version"],
        ["no-such-recipe.yaml", "--json"],
        [str(ROOT / "recipes" / "quick.yaml"), "-i", "no-such-backend"],
    ],
    ids=lambda args: " ".join(args) or "no-args",
)
def test_estimate_alone_helps_and_fails_as_in_the_full_app(args):
    """``fibsims estimate`` runs on a group holding that command alone (issue 13: start-up
    time): its help, its flags and its errors are the full app's."""
    alone = runner.invoke(estimate_app(), ["estimate", *args])
    full = runner.invoke(app, ["estimate", *args])
    assert (alone.exit_code, alone.output) == (full.exit_code, full.output)
    assert alone.output


QUICK = str(ROOT / "recipes" / "quick.yaml")


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        [],
        ["no-such-recipe.yaml"],
        [str(ROOT / "recipes")],  # a folder: typer passes it, the service refuses it
        [QUICK, QUICK],
        [QUICK, "--jsn"],
        [QUICK, "--set"],
        [QUICK, "--set", "--json"],  # typer would take --json as the value
        [QUICK, "-i", "sim", "-i", "sim"],
        [QUICK, "--instrument=sim"],
        [QUICK, "--"],
        [QUICK, "-"],
        [QUICK, ""],
    ],
    ids=lambda args: " ".join(a.replace(str(ROOT), "") for a in args) or "no-args",
)
def test_arguments_that_are_not_plain_are_left_to_typer(args):
    assert plain_arguments(args) is None


def test_plain_arguments_are_read_as_typer_reads_them(monkeypatch):
    args = ["--json", QUICK, "--set", "a=1", "--truth", "-i", "tcp://h:1", "--set", "b=2"]
    assert plain_arguments(args) == PlainArguments(
        Path(QUICK), "tcp://h:1", as_json=True, truth=True, overrides=("a=1", "b=2")
    )
    assert plain_arguments([QUICK]) == PlainArguments(Path(QUICK))
    monkeypatch.setenv("_FIBSIMS_COMPLETE", "bash_complete")  # a shell asks for completions
    assert plain_arguments([QUICK]) is None


PLAIN = "import sys; from fibsims.cli.entry import main; sys.argv[0] = 'fibsims'; main()"
WITH_TYPER = (
    "import sys; from fibsims.cli.root import estimate_app; sys.argv[0] = 'fibsims'; "
    "estimate_app()()"
)


@pytest.mark.parametrize(
    "args",
    [
        [QUICK, "--json", "--truth"],
        [QUICK, "-i", "sim"],  # the text
        [QUICK, "--set", "slice.0.mill.current_na=13.7", "--json"],  # a problem: exit 2
        [QUICK, "--set", "volume.slices=-1"],  # an invalid recipe: exit 2
        [QUICK, "--instrument", "no-such-backend"],
        [str(ROOT / "recipes" / "two-sites.yaml")],
    ],
    ids=["json", "text", "problem", "invalid", "no-backend", "sites"],
)
def test_plain_arguments_run_without_typer_as_with_it(args):
    """``fibsims estimate`` with plain arguments runs without typer (issue 13: an eighth of its
    start-up): the same output, errors and exit code as the typer command."""
    assert plain_arguments(args) is not None

    def run(code: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-c", code, "estimate", *args], capture_output=True, text=True
        )
        now = r'"?ends_utc_if_started_now"?:? \S+|ends \S+ if started now'  # the clock moves
        return done.returncode, re.sub(now, "", done.stdout), done.stderr

    assert run(PLAIN) == run(WITH_TYPER)
