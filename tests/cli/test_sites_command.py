"""End to end: ``fibsims run recipes/two-sites.yaml`` runs both sites in seconds, ``status``
shows each, and each site's folder is an ordinary run for ``status`` and ``reconstruct``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
TWO_SITES = ROOT / "recipes" / "two-sites.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("runs") / "two"
    result = runner.invoke(app, ["run", str(TWO_SITES), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_example_runs_both_sites_and_prints_each(two_sites):
    out, output = two_sites
    assert "site a:\ncompleted: 4/4 slices" in output
    assert "site b:\ncompleted: 3/3 slices" in output
    assert f"run completed: {out}" in output
    assert sorted(p.name for p in (out / "sites").iterdir()) == ["a", "b"]


def test_status_lists_every_site(two_sites):
    out, _ = two_sites
    result = runner.invoke(app, ["status", str(out)])
    assert result.exit_code == 0, result.output
    assert "state:      completed" in result.output and "7/7 slices" in result.output
    assert "  a  completed   4/4 slices" in result.output
    assert "  b  completed   3/3 slices" in result.output
    as_json = json.loads(runner.invoke(app, ["status", str(out), "--json"]).output)
    assert [site["name"] for site in as_json["sites"]] == ["a", "b"]


def test_a_site_folder_is_an_ordinary_run(two_sites):
    out, _ = two_sites
    site = out / "sites" / "b"
    result = runner.invoke(app, ["status", str(site), "--json"])
    assert json.loads(result.output)["slices_completed"] == 3
    result = runner.invoke(app, ["reconstruct", str(site)])
    assert result.exit_code == 0, result.output
    assert (site / "volumes.h5").exists()


def test_a_finished_run_has_nothing_to_resume_or_abort(two_sites):
    out, _ = two_sites
    for command in ("resume", "abort"):
        result = runner.invoke(app, [command, str(out)])
        assert result.exit_code == 2, result.output
        assert "nothing to" in result.output


def test_a_second_run_into_the_folder_points_at_resume(two_sites):
    out, _ = two_sites
    result = runner.invoke(app, ["run", str(TWO_SITES), "--out", str(out), "--no-progress"])
    assert result.exit_code == 2 and "already holds a run" in result.output


def test_a_bad_site_is_refused_naming_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TWO_SITES.read_text().replace("name: b", "name: a"))
    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "sites.1.name" in result.output and "already the name of sites.0" in result.output
    assert not (tmp_path / "run").exists()


def test_json_events_of_a_multi_site_run_carry_every_site_s_slices(tmp_path):
    out = tmp_path / "events"
    result = runner.invoke(app, ["run", str(TWO_SITES), "-o", str(out), "--json-events"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    committed = [e for e in events if e["event"] == "slice_committed"]
    assert len(committed) == 4 + 3, "site a's 4 slices, then site b's 3"
    assert sum(e["event"] == "run_finished" for e in events) == 2
