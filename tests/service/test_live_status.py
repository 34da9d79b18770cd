"""``fibsims status DIR`` of a run going on in another process shows what its bar shows:
slices done of planned, the running step, instrument time so far of the expected total, and
when it should end on the wall clock."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.cli.render import render_status
from fibsims.service.folder import RunFolderError
from fibsims.service.status import run_status

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"


def _long_recipe(folder: Path) -> Path:
    """300 slices with big SE images: minutes of wall time, far more than the test needs."""
    text = QUICK.read_text().replace("slices: 6}", "slices: 300}")
    text = text.replace("resolution: [192, 128]", "resolution: [768, 512]")
    text = text.replace("limits: {max_hours: 2}", "limits: {max_hours: 30}")
    path = folder / "long.yaml"
    path.write_text(text)
    return path


def _live_status(folder: Path, process: subprocess.Popen, timeout_s: float = 90.0) -> dict:
    """The run's status once it has committed a slice and is inside a step."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            status = run_status(folder)
        except RunFolderError:
            status = {}
        if status.get("eta_utc") and status.get("current_step"):
            return status
        time.sleep(0.05)
    raise AssertionError("the run never reported a step and an ETA")


def test_status_of_a_live_run_shows_step_instrument_time_of_expected_and_eta(tmp_path):
    out = tmp_path / "live"
    process = subprocess.Popen(
        [sys.executable, "-m", "fibsims", "run", _long_recipe(tmp_path), "-o", out, "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        status = _live_status(out, process)
        assert status["process_alive"] and status["state"] == "running"
        assert 1 <= status["slices_completed"] < status["slices_planned"] == 300
        assert 0 < status["instrument_time_s"] < status["instrument_time_expected_s"]
        assert status["expected_is_floor"] is False
        assert status["current_step"]["kind"] in {
            "mill",
            "rocking_polish",
            "autofocus",
            "se_image",
            "sims_raster",
        }
        # the same snapshot as `fibsims status` prints it (a second read could fall between a
        # commit and the next step, when there is no step to show)
        printed = io.StringIO()
        render_status(Console(file=printed, highlight=False, soft_wrap=True), status)
        shown = printed.getvalue()
        assert "/300 slices" in shown and " of ~" in shown, shown
        assert "now:        slice " in shown and "ends:       in " in shown, shown
        cli = CliRunner().invoke(app, ["status", str(out)])
        assert cli.exit_code == 0 and "/300 slices" in cli.output, cli.output
    finally:
        process.kill()  # our own child, by its handle
        process.communicate(timeout=30)


def test_status_of_a_stopped_run_shows_no_step_and_no_eta(tmp_path):
    out = tmp_path / "done"
    result = CliRunner().invoke(app, ["run", str(QUICK), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    status = run_status(out)
    assert status["current_step"] is None and status["eta_utc"] is None
    assert status["instrument_time_expected_s"] > 0
