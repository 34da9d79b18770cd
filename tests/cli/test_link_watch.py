"""Live events: the engine's events on a PUB socket and ``fibsims watch`` following them."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.data.live import EventPublisher, EventSubscriber, RunProgress
from fibsims.engine.events import (
    RunFinished,
    RunStarted,
    SliceCommitted,
    StateChanged,
    StepStarted,
)
from fibsims.instrument.transport import LinkConfigError

QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"
runner = CliRunner()

EVENTS = [
    StateChanged(t_s=0.0, previous="idle", state="preflight"),
    RunStarted(t_s=1.0, recipe="demo", slices_planned=2, first_slice=0, instrument="sim", seed=1),
    StateChanged(t_s=1.0, previous="preflight", state="running"),
    StepStarted(t_s=2.0, slice=0, position=0, kind="mill"),
    SliceCommitted(
        t_s=3600.0,
        slice=0,
        face_z_um=0.025,
        duration_s=3599.0,
        slices_completed=1,
        slices_planned=2,
    ),
    StepStarted(t_s=3601.0, slice=1, position=3, kind="sims_raster"),
    SliceCommitted(
        t_s=7200.0, slice=1, face_z_um=0.05, duration_s=3599.0, slices_completed=2, slices_planned=2
    ),
    StateChanged(t_s=7200.0, previous="running", state="completed"),
    RunFinished(t_s=7200.0, status="completed", slices_completed=2, slices_planned=2),
]


def _publish_when_watched(publisher: EventPublisher, events=EVENTS) -> threading.Thread:
    def play() -> None:
        assert publisher.wait_for_subscriber(10)
        for event in events:
            publisher(event)
        publisher.close()

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread


def test_progress_is_folded_from_the_events():
    progress = RunProgress()
    for event in EVENTS[:6]:
        progress.apply(event.as_dict())
    assert (progress.recipe, progress.state, progress.slices_completed) == ("demo", "running", 1)
    assert progress.last_step == "slice 1 sims_raster" and not progress.finished


def test_watch_shows_progress_and_ends_with_the_run():
    publisher = EventPublisher("tcp://127.0.0.1:0")
    thread = _publish_when_watched(publisher)
    result = runner.invoke(app, ["watch", publisher.endpoint, "--timeout", "10"])
    thread.join(5)
    assert result.exit_code == 0, result.output
    assert "completed: 2/2 slices, instrument time 2.00 h" in result.output


def test_watch_json_prints_one_line_per_event():
    publisher = EventPublisher("tcp://127.0.0.1:0")
    thread = _publish_when_watched(publisher)
    result = runner.invoke(app, ["watch", publisher.endpoint, "--json", "--timeout", "10"])
    thread.join(5)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [x["event"] for x in lines] == [e.name() for e in EVENTS]


def test_a_run_that_did_not_complete_exits_1_with_its_reason():
    publisher = EventPublisher("tcp://127.0.0.1:0")
    stopped = [
        *EVENTS[:5],
        RunFinished(
            t_s=4000.0,
            status="paused",
            slices_completed=1,
            slices_planned=2,
            reason="HardwareFault: vacuum",
        ),
    ]
    thread = _publish_when_watched(publisher, stopped)
    result = runner.invoke(app, ["watch", publisher.endpoint, "--timeout", "10"])
    thread.join(5)
    assert result.exit_code == 1
    assert "paused: 1/2 slices" in result.output and "vacuum" in result.output


def test_watch_with_nothing_to_watch_gives_up_after_its_timeout():
    result = runner.invoke(app, ["watch", "tcp://127.0.0.1:9", "--timeout", "0.2"])
    assert result.exit_code == 1 and "no events" in result.output


def test_watch_refuses_a_bad_address():
    result = runner.invoke(app, ["watch", "127.0.0.1:5600"])
    assert result.exit_code == 2 and "tcp://HOST:PORT" in result.output


def test_publishing_beyond_loopback_needs_keys():
    with pytest.raises(LinkConfigError, match="without CurveZMQ keys") as caught:
        EventPublisher("tcp://0.0.0.0:0")
    assert "--publish-server-key and --publish-authorized-clients" in str(caught.value)


def test_run_publish_is_followed_live_to_its_end(tmp_path):
    probe = EventPublisher("tcp://127.0.0.1:0")  # find a free port, then give it to the run
    address = probe.endpoint
    probe.close()
    subscriber = EventSubscriber(address)
    seen: list[dict] = []

    def follow() -> None:
        while (message := subscriber.receive(20)) is not None:
            seen.append(message)
            if message["event"]["event"] == "run_finished":
                return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    recipe = tmp_path / "long.yaml"  # enough slices that the watcher joins while it runs
    recipe.write_text(
        QUICK.read_text()
        .replace("slices: 6}", "slices: 40}")
        .replace("max_hours: 2", "max_hours: 20")
    )
    result = runner.invoke(
        app,
        ["run", str(recipe), "--out", str(tmp_path / "run"), "--no-progress", "--publish", address],
    )
    thread.join(10)
    subscriber.close()
    assert result.exit_code == 0, result.output
    assert seen, "the watcher saw nothing"
    last = seen[-1]
    assert last["event"]["event"] == "run_finished"
    assert last["progress"]["slices_completed"] == last["progress"]["slices_planned"] == 40
    assert [m["seq"] for m in seen] == sorted(m["seq"] for m in seen)


def test_run_publish_beyond_loopback_is_refused_before_any_folder(tmp_path):
    result = runner.invoke(
        app,
        [
            "run",
            str(QUICK),
            "--out",
            str(tmp_path / "x"),
            "--no-progress",
            "--publish",
            "tcp://0.0.0.0:5600",
        ],
    )
    assert result.exit_code == 2 and "without CurveZMQ keys" in result.output
    assert "--publish-server-key and --publish-authorized-clients" in result.output
    assert "pass --server-key" not in result.output, "those are the instrument server's flags"
    assert not (tmp_path / "x").exists()


def test_a_publisher_key_problem_names_the_publisher_flags(tmp_path):
    folder = tmp_path / "clients"
    folder.mkdir()
    result = runner.invoke(
        app,
        [
            "run", str(QUICK), "--out", str(tmp_path / "x"), "--no-progress",
            "--publish", "tcp://0.0.0.0:5600",
            "--publish-server-key", str(tmp_path / "missing.key_secret"),
            "--publish-authorized-clients", str(folder),
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--publish-server-key: cannot read the key file" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()


def test_run_publish_beyond_loopback_with_keys_admits_only_keyed_watchers(tmp_path):
    from fibsims.instrument.transport.security import ClientKeys, generate_keys

    files = generate_keys(tmp_path / "keys")
    probe = EventPublisher("tcp://127.0.0.1:0")
    port = probe.endpoint.rsplit(":", 1)[1]
    probe.close()
    keyed = EventSubscriber(
        f"tcp://127.0.0.1:{port}", keys=ClientKeys(files.server_public, files.client_secret)
    )
    seen: list[str] = []

    def follow() -> None:
        while (message := keyed.receive(20)) is not None:
            seen.append(message["event"]["event"])
            if seen[-1] == "run_finished":
                return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    recipe = tmp_path / "long.yaml"
    recipe.write_text(QUICK.read_text().replace("slices: 6}", "slices: 40}"))
    result = runner.invoke(
        app,
        [
            "run", str(recipe), "--out", str(tmp_path / "run"), "--no-progress",
            "--publish", f"tcp://0.0.0.0:{port}",
            "--publish-server-key", str(files.server_secret),
            "--publish-authorized-clients", str(files.authorized_clients),
        ],
    )  # fmt: skip
    thread.join(10)
    keyed.close()
    assert result.exit_code == 0, result.output
    assert seen and seen[-1] == "run_finished"


def test_publish_keys_come_in_pairs(tmp_path):
    result = runner.invoke(
        app,
        ["run", str(QUICK), "--out", str(tmp_path / "x"), "--publish-server-key", "k"],
    )
    assert result.exit_code == 2
    assert "pass both --publish-server-key and --publish-authorized-clients" in result.output
