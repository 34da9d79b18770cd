"""A multi-site run killed (SIGKILL) in its second site: ``fibsims resume DIR`` leaves the
first site untouched, resumes the second at its first uncommitted slice, runs the third, and
every site's data equal those of a run that never stopped. A second process on the live run
is refused naming the holder."""

from __future__ import annotations

import hashlib
import signal
import time
from pathlib import Path

import pytest
from tests.reliability.conftest import (
    BIG_IMAGES,
    LONG_LIMITS,
    assert_clean_output,
    cli,
    committed,
    finish,
    recipe_text,
    start_cli,
    status_json,
)

from fibsims.service.folder import open_run_folder
from fibsims.service.layout import RunLayout

SITES = """\
sites:
  - {name: a, stage: {x_um: 0, y_um: 0}}
  - {name: b, stage: {x_um: 40, y_um: 0}}
  - {name: c, stage: {x_um: 80, y_um: 0}, volume: {face_width_um: 20, face_height_um: 15,
      slice_thickness_nm: 25, slices: 2}}
"""


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    """Three sites of 8 big-image slices (the last 2): a slice takes a visible moment."""
    path = tmp_path_factory.mktemp("recipes") / "sites8.yaml"
    path.write_text(recipe_text(8, BIG_IMAGES) + SITES, encoding="utf-8")
    return path


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in {"owner.json", ".fibsims.lock", "state.json"}
    }


def _wait(condition, process, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, "the run ended before it was killed"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.002)


def test_a_kill_in_the_second_site_resumes_there_with_the_data_of_an_unbroken_run(
    recipe, tmp_path, reap, same_datasets
):
    whole = tmp_path / "whole"
    done = cli("run", recipe, "--out", whole, "--seed", 1, "--no-progress")
    assert done.returncode == 0, done.stderr

    out = tmp_path / "killed"
    process = reap(start_cli("run", recipe, "--out", out, "--seed", 1, "--no-progress"))
    site_b = out / "sites" / "b"
    _wait(lambda: (site_b / "journal.jsonl").exists() and len(committed(site_b)) >= 2, process)

    process.send_signal(signal.SIGKILL)
    finish(process)

    stood = status_json(out)
    assert [s["state"] for s in stood["sites"]] == ["completed", "interrupted", "pending"]
    assert stood["site"] == "b" and "fibsims resume" in stood["next"]
    killed_at = len(committed(site_b))
    site_a = _files(out / "sites" / "a")

    resumed = cli("resume", out, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert_clean_output(resumed.stdout, resumed.stderr)
    assert "site a:" not in resumed.stdout and "site b:" in resumed.stdout
    assert "site c:" in resumed.stdout and "run completed" in resumed.stdout
    assert _files(out / "sites" / "a") == site_a  # the first site is not touched
    run_b = open_run_folder(RunLayout(site_b))
    assert [s.first_slice for s in run_b.sessions] == [0, killed_at]
    for name in ("a", "b", "c"):
        same_datasets(whole / "sites" / name / "run.h5", out / "sites" / name / "run.h5")
    assert status_json(out)["state"] == "completed"


def test_a_second_process_on_a_live_multi_site_run_is_refused_naming_the_holder(tmp_path, reap):
    """Site b is 300 big-image slices: the run is still in it when the second process asks."""
    recipe = tmp_path / "long.yaml"
    long_b = SITES.replace(
        "{name: b, stage: {x_um: 40, y_um: 0}}",
        "{name: b, stage: {x_um: 40, y_um: 0}, volume: {face_width_um: 20, "
        "face_height_um: 15, slice_thickness_nm: 25, slices: 300}}",
    )
    recipe.write_text(recipe_text(2, BIG_IMAGES, *LONG_LIMITS) + long_b, encoding="utf-8")
    out = tmp_path / "run"
    process = reap(start_cli("run", recipe, "--out", out, "--no-progress"))
    site_b = out / "sites" / "b"
    _wait(lambda: (site_b / "journal.jsonl").exists() and len(committed(site_b)) >= 1, process)
    for args in (("resume", out), ("resume", site_b), ("run", recipe, "--out", out)):
        second = cli(*args)
        assert second.returncode == 2, (args, second.stderr)
        assert "another fibsims process" in second.stderr or "site 'b' of" in second.stderr
    stood = status_json(out)
    assert stood["state"] == "running" and stood["site"] == "b"
    assert [s["state"] for s in stood["sites"]] == ["completed", "running", "pending"]
    process.send_signal(signal.SIGKILL)
    finish(process)
