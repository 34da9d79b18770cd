"""What ``fibsims run`` / ``resume`` print: the run folder first, a bar by default, nothing but
the result with ``--quiet``, and one JSON object per engine event with ``--json-events``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["run", str(QUICK), *args])


def test_the_run_folder_is_announced_before_the_first_slice(tmp_path):
    result = _run("-o", str(tmp_path / "run"), "-s", "1", "--json-events")
    assert result.exit_code == 0, result.output
    assert result.stderr.index("run folder:") < result.stderr.index("completed:")
    assert f"fibsims status {tmp_path / 'run'}" in result.stderr


def test_quiet_prints_only_the_one_line_result_with_the_folder(tmp_path):
    out = tmp_path / "run"
    result = _run("--out", str(out), "--seed", "1", "-q")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("completed: 6/6 slices") and lines[0].endswith(str(out))


def test_quiet_still_reports_bad_input_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(QUICK.read_text().replace("slices: 6}", "slices: -1}"))
    result = runner.invoke(app, ["run", str(bad), "-o", str(tmp_path / "run"), "-q"])
    assert result.exit_code == 2
    assert "volume.slices" in result.stderr and "Traceback" not in result.output


def test_json_events_print_one_object_per_event_with_stable_keys_and_no_bar(tmp_path):
    result = _run("--out", str(tmp_path / "run"), "--seed", "1", "--json-events")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(r)[:3] == ["event", "t_s", "slice"] for r in records)
    names = [r["event"] for r in records]
    assert names[0] == "state_changed" and names[-1] == "run_finished"
    started = next(r for r in records if r["event"] == "run_started")
    assert started["expected_end_s"] > 0 and started["expected_is_floor"] is False
    steps = [r for r in records if r["event"] == "step_started"]
    assert {r["kind"] for r in steps} >= {"mill", "se_image", "sims_raster"}
    assert all("step_name" in r for r in steps)
    assert sum(r["event"] == "slice_committed" for r in records) == 6
    assert "━" not in result.stderr, "no bar with --json-events"


def test_the_log_carries_the_expected_end_and_the_state_file_the_estimate(tmp_path):
    out = tmp_path / "run"
    assert _run("--out", str(out), "--no-progress").exit_code == 0
    state = json.loads((out / "state.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    expected = state["instrument_time_expected_s"]
    assert abs(expected - summary["simulated_seconds"]) < 0.1 * summary["simulated_seconds"]
    status = runner.invoke(app, ["status", str(out)])
    assert "instrument time 14 min of ~14 min" in status.output
