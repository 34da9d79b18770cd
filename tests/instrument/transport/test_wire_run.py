"""quick.yaml on the twin served over ZeroMQ: the same data as in-process with the same seed,
also with 10 % of replies dropped and a server restart mid-run (the acceptance scenario).

How many mills a run makes is the engine's business (its steps react to what they measure),
so the proof that nothing ran twice compares a faulty run with a clean one over the wire,
rather than with a count derived from the engine's plan."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import pytest
from tests.instrument.transport.conftest import FAST

from fibsims.engine.journal import Journal
from fibsims.engine.plan import compile_plan
from fibsims.instrument import (
    InstrumentOptions,
    MillPattern,
    PatternKind,
    Polarity,
    RasterRequest,
    ScanRequest,
    StagePosition,
    open_instrument,
)
from fibsims.instrument.transport import FaultPlan, InstrumentServer, connect, link
from fibsims.recipe import load_recipe
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run

QUICK = Path(__file__).resolve().parents[3] / "recipes" / "quick.yaml"
SEED = 1


def twin(options: InstrumentOptions):
    return open_instrument("sim", options)


def run(out: Path, instrument: str = "sim"):
    return start_run(
        RunRequest(recipe_path=QUICK, out=out, seed=SEED, instrument=instrument, progress=False)
    )


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wire") / "in-process"
    assert run(out).ok
    return out / "run.h5"


@dataclass(frozen=True)
class CleanRun:
    """A fault-free run over the wire: its run.h5, the mills the server executed, and the
    calls it answered."""

    run_file: Path
    mills: int
    calls: int


@pytest.fixture(scope="module")
def clean_wire(tmp_path_factory) -> CleanRun:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(link, "DEFAULT_SETTINGS", FAST)
        server = InstrumentServer(twin, "tcp://127.0.0.1:0").start()
        try:
            out = tmp_path_factory.mktemp("wire") / "clean"
            report = run(out, instrument=server.endpoint)
            assert report.ok, report.summary.get("reason")
            stats = server.stats()
            return CleanRun(
                out / "run.h5", stats["executed"]["column.mill"], stats["calls_received"]
            )
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def fast_link(monkeypatch, fast):
    """`fibsims run --instrument ADDRESS` uses the default link timing; shrink it here."""
    monkeypatch.setattr(link, "DEFAULT_SETTINGS", fast)


def test_quick_over_zeromq_gives_the_same_data_as_in_process(
    clean_wire, in_process, same_datasets, datasets_of
):
    assert len(datasets_of(in_process)) > 10
    same_datasets(in_process, clean_wire.run_file)
    assert clean_wire.mills >= compile_plan(load_recipe(QUICK)).slices_planned  # a cut a slice


def test_dropped_replies_and_a_restart_lose_nothing_and_repeat_nothing(
    serve, clean_wire, in_process, tmp_path, same_datasets
):
    plan = FaultPlan(drop_replies=0.10, restart_after_calls=150, restart_downtime_ms=300, seed=2024)
    server = serve(twin, faults=plan)
    out = tmp_path / "faulty"
    report = run(out, instrument=server.endpoint)
    assert report.ok, report.summary.get("reason")
    stats = server.stats()
    assert stats["restarts"] == 1 and stats["replies_dropped"] >= 20
    assert stats["duplicates_suppressed"] >= 5  # the rest of the drops hit reads, re-run
    assert stats["executed"]["column.mill"] == clean_wire.mills, "a mill ran twice (or never)"
    assert stats["sessions_opened"] == 1
    assert Journal(out / "journal.jsonl").committed_slices() == list(range(6))
    with h5py.File(out / "run.h5", "r") as f:
        assert list(f["entry/slices"]["index"]) == list(range(6))
    same_datasets(in_process, out / "run.h5")


def test_a_server_that_forgets_pauses_the_run_which_resumes_on_the_new_session(
    serve, clean_wire, in_process, tmp_path, same_datasets
):
    """The resumed session is opened on the sample state the last committed slice left."""
    halfway = clean_wire.calls // 2  # of the call replies, preflight's questions included
    plan = FaultPlan(restart_after_calls=halfway, restart_downtime_ms=100, forget_on_restart=True)
    opened: list[InstrumentOptions] = []

    def recording_twin(options: InstrumentOptions):
        opened.append(options)
        return twin(options)

    server = serve(recording_twin, faults=plan)
    out = tmp_path / "amnesia"
    report = run(out, instrument=server.endpoint)
    assert report.status == "paused", report.summary["reason"]
    assert "lost this session" in report.summary["reason"]
    assert "restarted without it" in report.summary["reason"]
    assert 0 < report.summary["slices_completed"] < 6
    resumed = resume_run(ResumeRequest(folder=out, progress=False))
    assert resumed.ok, resumed.summary.get("reason")
    assert Journal(out / "journal.jsonl").committed_slices() == list(range(6))
    same_datasets(in_process, out / "run.h5")
    assert [o.sample_state is None for o in opened] == [True, False]
    assert opened[1].start_time_s > 0


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


def test_a_served_twin_gives_the_in_process_cost_figures_and_capabilities(serve):
    options = InstrumentOptions(seed=SEED, sample=load_recipe(QUICK).sample.model_dump(mode="json"))
    local = twin(options)
    if local.costs is None:
        pytest.skip("the twin has no cost model")
    server = serve(twin)
    remote = connect(server.endpoint, options)
    try:
        assert remote.costs is not None
        scan = ScanRequest(resolution_px=(192, 128), dwell_us=0.5, frames=4, field_width_um=30.0)
        raster = RasterRequest(scan, Polarity.POSITIVE, ("7Li+", "59Co+"))
        pattern = MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20.0, 15.0, 18.0, 0.075)
        start, end = StagePosition(), StagePosition(x_um=12.5, rotation_deg=-20.0)
        for ask in (
            lambda costs: costs.mill_s(pattern, 15.0),
            lambda costs: costs.mill_s(pattern, 15.0, StagePosition(tilt_deg=30.0)),
            lambda costs: costs.image_s(scan),
            lambda costs: costs.raster_s(raster),
            lambda costs: costs.move_s(start, end),
            lambda costs: costs.current_change_s(),
            lambda costs: costs.autofocus_s(),
            lambda costs: costs.spectrum_samples(raster),
        ):
            assert ask(remote.costs) == ask(local.costs)
        assert remote.capabilities == local.capabilities is not None
    finally:
        remote.close()
        local.close()


def test_a_server_that_dies_mid_run_ends_it_quickly_with_the_beam_state_unknown(
    serve, tmp_path, fast
):
    """The engine's wind-down (blank, is_blanked) fails at once on the lost link, so the run
    ends about dead_after_s after the server died; the server blanked the beam as it stopped."""
    opened: list = []
    server = None

    def dying_twin(options: InstrumentOptions):
        instrument = twin(options)
        opened.append(instrument)
        mill, calls = instrument.column.mill, []

        def mill_then_die(pattern):
            calls.append(pattern)
            if len(calls) == 3:  # the server is stopped while its third mill runs
                threading.Thread(target=server.stop).start()
                time.sleep(0.3)
            return mill(pattern)

        instrument.column.mill = mill_then_die
        return instrument

    server = serve(dying_twin)
    out = tmp_path / "orphan"
    started = time.monotonic()
    report = run(out, instrument=server.endpoint)
    took = time.monotonic() - started
    assert report.status in ("paused", "failed")
    assert "ServerUnreachable" in report.summary["reason"]
    assert took < 2 * fast.dead_after_s + 5.0
    events = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    finished = [e for e in events if e.get("event") == "run_finished"]
    assert finished and finished[-1]["beam_blanked"] is not True
    assert opened[0].column.is_blanked(), "the server blanked the beam as it stopped"
