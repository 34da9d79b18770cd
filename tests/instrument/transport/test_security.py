"""CurveZMQ: an authorised client works, any other is refused and the refusal is logged;
serving beyond loopback without keys is refused."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import zmq.auth

from fibsims.instrument import InstrumentOptions
from fibsims.instrument.transport import (
    ClientKeys,
    ClientRefused,
    InstrumentServer,
    LinkConfigError,
    ServerKeys,
    connect,
    generate_keys,
)

OPTIONS = InstrumentOptions(seed=1)


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    generate_keys(folder)
    stranger = folder / "stranger"
    stranger.mkdir()
    zmq.auth.create_certificates(str(stranger), "client")
    return folder, stranger


@pytest.fixture
def secured(serve, factory, keys):
    folder, _ = keys
    return serve(
        factory, keys=ServerKeys(folder / "server.key_secret", folder / "authorized_clients")
    )


def test_generated_keys_are_laid_out_for_the_flags_and_secrets_are_private(keys):
    folder, _ = keys
    for name in (
        "server.key",
        "server.key_secret",
        "client.key",
        "client.key_secret",
        "authorized_clients/client.key",
    ):
        assert (folder / name).is_file(), name
    assert (folder / "client.key_secret").stat().st_mode & 0o077 == 0


def test_generating_over_existing_keys_needs_force(keys):
    folder, _ = keys
    with pytest.raises(LinkConfigError, match="--force"):
        generate_keys(folder)


def test_an_authorised_client_works(secured, keys, fast):
    folder, _ = keys
    client = ClientKeys(folder / "server.key", folder / "client.key_secret")
    instrument = connect(secured.endpoint, OPTIONS, keys=client, settings=fast)
    assert instrument.clock.now_s() == 0.0
    instrument.close()


def test_a_client_with_another_key_is_refused_and_the_refusal_logged(secured, keys, fast, caplog):
    folder, stranger = keys
    intruder = ClientKeys(folder / "server.key", stranger / "client.key_secret")
    caplog.set_level(logging.WARNING, logger="fibsims.link")
    started = time.monotonic()
    with pytest.raises(ClientRefused, match="refused this client's key"):
        connect(secured.endpoint, OPTIONS, keys=intruder, settings=fast)
    assert time.monotonic() - started < fast.dead_after_s, "a refusal is not a timeout"
    deadline = time.monotonic() + 2
    while secured.refused_clients == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert secured.refused_clients >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("not among the authorised clients" in m for m in messages), messages
    assert len(secured.dispatcher.sessions) == 0


def test_a_client_without_keys_is_refused(secured, fast):
    with pytest.raises(ClientRefused, match="requires CurveZMQ"):
        connect(secured.endpoint, OPTIONS, settings=fast)


def test_a_client_pinning_the_wrong_server_key_is_refused(secured, keys, fast):
    folder, stranger = keys
    wrong = ClientKeys(stranger / "client.key", folder / "client.key_secret")
    with pytest.raises(ClientRefused, match="server-public-key does not match"):
        connect(secured.endpoint, OPTIONS, keys=wrong, settings=fast)


@pytest.mark.parametrize(
    "address", ["tcp://0.0.0.0:0", "tcp://*:0", "tcp://192.0.2.1:5555", "tcp://example.org:5555"]
)
def test_serving_beyond_loopback_without_keys_is_refused(factory, address):
    with pytest.raises(LinkConfigError, match="without CurveZMQ keys"):
        InstrumentServer(factory, address)


def test_serving_beyond_loopback_with_keys_is_allowed(factory, keys, fast):
    folder, _ = keys
    server = InstrumentServer(
        factory,
        "tcp://0.0.0.0:0",
        keys=ServerKeys(folder / "server.key_secret", folder / "authorized_clients"),
    ).start()
    try:
        port = server.endpoint.rsplit(":", 1)[1]
        client = ClientKeys(folder / "server.key", folder / "client.key_secret")
        instrument = connect(f"tcp://127.0.0.1:{port}", OPTIONS, keys=client, settings=fast)
        instrument.close()
    finally:
        server.stop()


def test_missing_key_files_are_named(factory, tmp_path):
    keys = ServerKeys(tmp_path / "nope.key_secret", tmp_path)
    with pytest.raises(LinkConfigError, match=r"nope\.key_secret"):
        InstrumentServer(factory, "tcp://127.0.0.1:0", keys=keys).start()
    with pytest.raises(LinkConfigError, match=r"--server-public-key: .*server\.key"):
        connect(
            "tcp://127.0.0.1:9",
            OPTIONS,
            keys=ClientKeys(tmp_path / "server.key", tmp_path / "missing"),
        )
