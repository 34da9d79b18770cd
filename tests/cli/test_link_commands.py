"""``fibsims sim serve``, ``keys generate`` and ``run --instrument tcp://...`` through the real
command line: a served twin gives the in-process data, keys admit the right client only, and
bad input is a clear message with exit code 2."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.auth
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.instrument import InstrumentOptions
from fibsims.instrument.transport import LinkSettings, connect
from fibsims.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


class Served:
    """``fibsims sim serve`` in a subprocess; ``endpoint`` is read from its first line."""

    def __init__(self, *flags: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fibsims",
                "sim",
                "serve",
                "--bind",
                "tcp://127.0.0.1:0",
                *flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        assert ready, "the server did not start"
        line = self.process.stdout.readline()
        assert line.startswith("serving the twin on tcp://127.0.0.1:"), line
        self.endpoint = line.split()[4]

    def stop(self, number: int = signal.SIGTERM) -> tuple[str, str]:
        self.process.send_signal(number)
        out, err = self.process.communicate(timeout=10)
        assert self.process.returncode == 0, err
        return out, err


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.communicate()


@pytest.fixture(scope="module")
def in_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "local"
    result = runner.invoke(
        app, ["run", str(QUICK), "--out", str(out), "--seed", "1", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    return out / "run.h5"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys") / "keys"
    result = runner.invoke(app, ["keys", "generate", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "--server-key" in result.output and "--client-key" in result.output
    return folder


def test_run_against_a_served_twin_gives_the_in_process_data(
    served, in_process, tmp_path, same_datasets
):
    server = Served()
    served.append(server)
    out = tmp_path / "wire"
    result = runner.invoke(
        app,
        [
            "run",
            str(QUICK),
            "--out",
            str(out),
            "--seed",
            "1",
            "--no-progress",
            "--instrument",
            server.endpoint,
        ],
    )
    assert result.exit_code == 0, result.output
    same_datasets(in_process, out / "run.h5")
    stdout, _ = server.stop()
    assert '"column.mill": 18' in stdout and "stopped" in stdout


def test_keys_admit_the_authorised_client_and_refuse_and_log_a_stranger(served, keys, tmp_path):
    server = Served(
        "--server-key",
        str(keys / "server.key_secret"),
        "--authorized-clients",
        str(keys / "authorized_clients"),
    )
    served.append(server)
    good = runner.invoke(
        app,
        [
            "run",
            str(QUICK),
            "--out",
            str(tmp_path / "ok"),
            "--no-progress",
            "--instrument",
            server.endpoint,
            "--server-public-key",
            str(keys / "server.key"),
            "--client-key",
            str(keys / "client.key_secret"),
        ],
    )
    assert good.exit_code == 0, good.output
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    zmq.auth.create_certificates(str(stranger), "client")
    bad = runner.invoke(
        app,
        [
            "run",
            str(QUICK),
            "--out",
            str(tmp_path / "no"),
            "--no-progress",
            "--instrument",
            server.endpoint,
            "--server-public-key",
            str(keys / "server.key"),
            "--client-key",
            str(stranger / "client.key_secret"),
        ],
    )
    assert bad.exit_code == 2
    assert "refused this client's key" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "no").exists()
    _, log = server.stop()
    assert "refused a client" in log and "not among the authorised clients" in log


def test_keys_are_not_overwritten_without_force(keys):
    result = runner.invoke(app, ["keys", "generate", "--dir", str(keys)])
    assert result.exit_code == 2 and "--force" in result.output


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--bind", "localhost:5555"], "not of the form tcp://HOST:PORT"),
        (["--bind", "tcp://127.0.0.1:99999"], "outside 0-65535"),
        (["--bind", "tcp://0.0.0.0:0"], "without CurveZMQ keys"),
        (["--bind", "tcp://127.0.0.1:0", "--server-key", "x"], "--authorized-clients"),
        (
            [
                "--bind",
                "tcp://127.0.0.1:0",
                "--server-key",
                "/nope/server.key_secret",
                "--authorized-clients",
                "/nope",
            ],
            "cannot read the key file",
        ),
        (["--bind", "tcp://127.0.0.1:0", "--drop-replies", "1.5"], "--drop-replies"),
    ],
)
def test_bad_serve_flags_are_a_clear_error(flags, words):
    result = runner.invoke(app, ["sim", "serve", *flags])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_a_port_in_use_is_a_clear_error():
    context: zmq.Context = zmq.Context()
    taken = context.socket(zmq.ROUTER)
    try:
        port = taken.bind_to_random_port("tcp://127.0.0.1")
        result = runner.invoke(app, ["sim", "serve", "--bind", f"tcp://127.0.0.1:{port}"])
        assert result.exit_code == 2
        assert "already in use" in result.output and "Traceback" not in result.output
    finally:
        context.destroy(linger=0)


def test_run_with_half_the_keys_or_a_bad_address_is_refused(tmp_path):
    half = runner.invoke(
        app,
        [
            "run",
            str(QUICK),
            "--out",
            str(tmp_path / "a"),
            "--instrument",
            "tcp://127.0.0.1:5555",
            "--client-key",
            "client.key_secret",
        ],
    )
    assert half.exit_code == 2 and "--server-public-key" in half.output
    bad = runner.invoke(
        app, ["run", str(QUICK), "--out", str(tmp_path / "b"), "--instrument", "tcp://nowhere"]
    )
    assert bad.exit_code == 2 and "tcp://HOST:PORT" in bad.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_blanks_every_open_session_when_it_is_stopped(served, number):
    server = Served()
    served.append(server)
    settings = LinkSettings(heartbeat_s=0.05, silence_s=0.15, dead_after_s=1.0)
    sample = load_recipe(QUICK).sample.model_dump(mode="json")
    options = InstrumentOptions(seed=1, sample=sample)
    instrument = connect(server.endpoint, options, settings=settings)
    try:
        instrument.column.unblank()
        assert not instrument.column.is_blanked()
        stdout, log = server.stop(number)
    finally:
        instrument.link.close()
    assert f"the server is stopping: blanked the beam of session {instrument.link.session}" in log
    assert '"beams_blanked": 1' in stdout and "Traceback" not in log


def test_the_key_options_read_the_environment_variables_the_client_reads() -> None:
    """The CLI spells them out so that it starts without ZeroMQ (issue 13)."""
    from fibsims.cli import link_commands
    from fibsims.instrument.transport import client

    assert link_commands.SERVER_KEY_ENV == client.SERVER_KEY_ENV
    assert link_commands.CLIENT_KEY_ENV == client.CLIENT_KEY_ENV


@pytest.mark.parametrize(
    ("instrument", "says"),
    [
        ("nope", "no instrument backend named 'nope' (installed: "),
        ("sim,tof=nope", "instrument 'sim,tof=nope'"),
        ("tcp://127.0.0.1:5555", "serve an installed backend by name, not an address"),
    ],
)
def test_serve_refuses_a_backend_it_cannot_open_before_binding(instrument, says):
    result = runner.invoke(
        app, ["serve", "--instrument", instrument, "--bind", "tcp://127.0.0.1:0"]
    )
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "serving" not in result.output and "Traceback" not in result.output
