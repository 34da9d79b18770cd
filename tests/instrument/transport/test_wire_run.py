"""quick.yaml on the twin served over ZeroMQ: the same data as in-process with the same seed,
also with 10 % of replies dropped and a server restart mid-run (the acceptance scenario)."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from fibsims.engine.actions import Mill, RockingPolish
from fibsims.engine.journal import Journal
from fibsims.engine.plan import compile_plan
from fibsims.instrument import InstrumentOptions, open_instrument
from fibsims.instrument.transport import FaultPlan, link
from fibsims.recipe import load_recipe
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run

QUICK = Path(__file__).resolve().parents[3] / "recipes" / "quick.yaml"
SEED = 1


def twin(options: InstrumentOptions):
    return open_instrument("sim", options)


def planned_mill_calls() -> int:
    plan = compile_plan(load_recipe(QUICK))
    count = 0
    for index in range(plan.slices_planned):
        for action in plan.slice(index).actions:
            if isinstance(action, Mill):
                count += 1
            elif isinstance(action, RockingPolish):
                count += action.passes * len(action.angles_deg)
    return count


def run(out: Path, instrument: str = "sim"):
    return start_run(
        RunRequest(recipe_path=QUICK, out=out, seed=SEED, instrument=instrument, progress=False)
    )


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wire") / "in-process"
    assert run(out).ok
    return out / "run.h5"


@pytest.fixture(autouse=True)
def fast_link(monkeypatch, fast):
    """`fibsims run --instrument ADDRESS` uses the default link timing; shrink it here."""
    monkeypatch.setattr(link, "DEFAULT_SETTINGS", fast)


def test_quick_over_zeromq_gives_the_same_data_as_in_process(
    serve, in_process, tmp_path, same_datasets, datasets_of
):
    server = serve(twin)
    report = run(tmp_path / "wire", instrument=server.endpoint)
    assert report.ok, report.summary.get("reason")
    assert len(datasets_of(in_process)) > 10
    same_datasets(in_process, tmp_path / "wire" / "run.h5")
    assert server.stats()["executed"]["column.mill"] == planned_mill_calls()


def test_dropped_replies_and_a_restart_lose_nothing_and_repeat_nothing(
    serve, in_process, tmp_path, same_datasets
):
    plan = FaultPlan(drop_replies=0.10, restart_after_calls=150, restart_downtime_ms=300, seed=2024)
    server = serve(twin, faults=plan)
    out = tmp_path / "faulty"
    report = run(out, instrument=server.endpoint)
    assert report.ok, report.summary.get("reason")
    stats = server.stats()
    assert stats["restarts"] == 1 and stats["replies_dropped"] >= 20
    assert stats["duplicates_suppressed"] >= 10
    assert stats["executed"]["column.mill"] == planned_mill_calls() == 18
    assert stats["sessions_opened"] == 1
    assert Journal(out / "journal.jsonl").committed_slices() == list(range(6))
    with h5py.File(out / "run.h5", "r") as f:
        assert list(f["slices"]["index"]) == list(range(6))
    same_datasets(in_process, out / "run.h5")


def test_a_server_that_forgets_pauses_the_run_which_resumes_on_the_new_session(
    serve, in_process, tmp_path, same_datasets
):
    plan = FaultPlan(restart_after_calls=200, restart_downtime_ms=100, forget_on_restart=True)
    server = serve(twin, faults=plan)
    out = tmp_path / "amnesia"
    report = run(out, instrument=server.endpoint)
    assert report.status == "paused"
    assert "restarted and lost this session" in report.summary["reason"]
    assert 0 < report.summary["slices_completed"] < 6
    resumed = resume_run(ResumeRequest(folder=out, progress=False))
    assert resumed.ok, resumed.summary.get("reason")
    assert Journal(out / "journal.jsonl").committed_slices() == list(range(6))
    same_datasets(in_process, out / "run.h5")


def test_twin_faults_and_ground_truth_travel_with_the_session(
    serve, tmp_path, same_datasets, datasets_of
):
    extra = {
        "faults": ("transient@slice=1", "beam_current_drop@slice=3,duration_s=600"),
        "truth": True,
    }
    local = start_run(
        RunRequest(recipe_path=QUICK, out=tmp_path / "local", seed=SEED, progress=False, **extra)
    )
    server = serve(twin)
    remote = start_run(
        RunRequest(
            recipe_path=QUICK,
            out=tmp_path / "remote",
            seed=SEED,
            progress=False,
            instrument=server.endpoint,
            **extra,
        )
    )
    assert local.status == remote.status
    assert server.stats()["executed"]["truth.last_raster_truth"] == 6
    local_file, remote_file = tmp_path / "local" / "run.h5", tmp_path / "remote" / "run.h5"
    assert any("truth" in name for name in datasets_of(local_file))
    same_datasets(local_file, remote_file)
