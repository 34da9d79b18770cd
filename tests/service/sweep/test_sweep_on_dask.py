"""A small sweep on a two-worker LocalCluster, end to end: the table, the plot, a variant that
fails at run time (a SIMS current that saturates the detector passes preflight and pauses the
run) while the others finish, --keep summary and all, and the reruns: finished variants are
skipped, missing ones run, stopped ones resumed by the run's own resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fibsims.data.sweep_table import read_table
from fibsims.service.lock import RunLock
from fibsims.service.status import run_status
from fibsims.service.sweep.axes import SweepInputError
from fibsims.service.sweep.checks import SweepInvalid
from fibsims.service.sweep.runner import SweepRequest, run_sweep

ROOT = Path(__file__).resolve().parents[3]
QUICK = ROOT / "recipes" / "quick.yaml"
SMALL = ("volume.slices=3",)
GRID = ("sims_raster.frames=1,2", "sims_raster.current_pa=800,60000")


def _request(out: Path, **fields) -> SweepRequest:
    base = {
        "recipe": QUICK,
        "out": out,
        "vary": GRID,
        "sets": SMALL,
        "workers": 2,
        "progress": False,
        "tell": lambda text: None,
    }
    return SweepRequest(**{**base, **fields})


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "S"
    return out, run_sweep(_request(out))


@pytest.mark.slow
def test_the_table_plot_and_folders_of_a_sweep_with_a_failing_variant(swept):
    out, report = swept
    assert (out / "pareto.png").stat().st_size > 10_000
    rows = read_table(out / "sweep.csv")
    header = list(rows[0])
    assert header[:11] == [
        "variant", "run_dir", "status", "error", "seed", "sims_raster.frames",
        "sims_raster.current_pa", "simulated_seconds", "instrument_hours", "slices_done",
        "data_bytes",
    ]  # fmt: skip
    assert "quality.li_map_pearson_r_within_particles" in header
    by_id = {row["variant"]: row for row in rows}
    assert list(by_id) == [
        "001_frames-1_current_pa-800",
        "002_frames-1_current_pa-60000",
        "003_frames-2_current_pa-800",
        "004_frames-2_current_pa-60000",
    ]
    done, failed = by_id["003_frames-2_current_pa-800"], by_id["002_frames-1_current_pa-60000"]
    assert done["status"] == "done" and done["error"] == "" and done["slices_done"] == "3"
    assert float(done["instrument_hours"]) == pytest.approx(float(done["simulated_seconds"]) / 3600)
    assert int(done["data_bytes"]) > 100_000
    assert float(done["quality.li_map_pearson_r_within_particles"]) > 0.5
    assert failed["status"] == "failed"
    assert "saturated the TOF detector" in failed["error"] and "Traceback" not in failed["error"]
    assert failed["quality.li_map_pearson_r_within_particles"] == ""
    assert not report.ok and len(report.failed) == 2
    assert set(report.front) <= {"001_frames-1_current_pa-800", "003_frames-2_current_pa-800"}

    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["format"] == "fibsims-sweep/1"
    assert manifest["axes"] == {
        "sims_raster.frames": [1, 2],
        "sims_raster.current_pa": [800, 60000],
    }
    assert manifest["objective"] == "quality.li_map_pearson_r_within_particles"
    assert manifest["variants"][2] == {
        "id": "003_frames-2_current_pa-800",
        "values": {"sims_raster.frames": 2, "sims_raster.current_pa": 800},
        "seed": 811,
        "run_dir": "variants/003_frames-2_current_pa-800",
    }

    folder = out / "variants" / "003_frames-2_current_pa-800"
    li7 = np.load(folder / "preview" / "li7.npy")
    truth = np.load(folder / "preview" / "li7_truth.npy")
    assert li7.dtype == np.float32 and li7.shape == truth.shape == (48, 64)
    assert not (folder / "run.h5").exists() and not (folder / "sims.h5").exists()  # summary
    status = run_status(folder)  # still a run folder `fibsims status` reads
    assert status["state"] == "completed"
    assert "slice.3.sims_raster.frames=2" in status["overrides"]
    log = [json.loads(line) for line in (out / "sweep.log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in log][0::5] == ["sweep_started", "sweep_finished"]


@pytest.mark.slow
def test_a_rerun_skips_finished_variants_and_runs_the_rest(swept):
    out, _ = swept
    kept = out / "variants" / "001_frames-1_current_pa-800" / "summary.json"
    before = kept.stat().st_mtime_ns
    shutil.rmtree(out / "variants" / "003_frames-2_current_pa-800")  # lost: run again
    report = run_sweep(_request(out))
    assert (report.skipped, report.ran) == (1, 3)  # the two failed ones are tried again
    assert kept.stat().st_mtime_ns == before
    statuses = [row["status"] for row in read_table(out / "sweep.csv")]
    assert statuses == ["done", "failed", "done", "failed"]
    failed = run_status(out / "variants" / "002_frames-1_current_pa-60000")
    assert failed["state"] == "paused"  # resumed, and paused again by the same saturation

    with pytest.raises(SweepInputError, match="holds another sweep"):
        run_sweep(_request(out, vary=("sims_raster.frames=1,2,3",)))
    with RunLock(out, "sweep"), pytest.raises(SweepInputError, match="another fibsims process"):
        run_sweep(_request(out))


@pytest.mark.slow
def test_an_interrupted_variant_resumes_and_keep_all_keeps_its_data(tmp_path):
    out = tmp_path / "S"
    one = {"vary": ("sims_raster.frames=2",), "workers": 1, "keep": "all"}
    stopped = run_sweep(_request(out, faults=("hardware_fault@slice=1",), **one))
    assert stopped.failed[0]["error"].startswith("the run ended paused: HardwareFault")
    resumed = run_sweep(_request(out, **one))
    assert resumed.ok and resumed.ran == 1
    folder = out / "variants" / "001_frames-2"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["sessions"] == 2 and summary["slices_completed"] == 3  # resumed, not redone
    assert (folder / "run.h5").exists() and (folder / "sims.h5").exists()
    again = run_sweep(_request(out, **one))
    assert (again.skipped, again.ran, again.ok) == (1, 0, True)


def test_invalid_variants_refuse_the_sweep_and_leave_nothing(tmp_path):
    out = tmp_path / "new" / "S"
    with pytest.raises(SweepInvalid, match="2 of 2 variants cannot run"):
        run_sweep(_request(out, vary=("sims_raster.frames=0,-1",)))
    assert not (tmp_path / "new").exists()
