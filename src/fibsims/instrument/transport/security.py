"""CurveZMQ keys: generate them, load them, apply them to sockets, and log refusals.

Why CurveZMQ: it encrypts the link and authenticates both ends with long-term keys, inside
libzmq, with no extra service. The server proves itself with its secret key (the client pins
the server's public key); each client proves itself with its own keypair, and the server admits
only the public keys found in its authorised-clients folder. A refusal is logged with the
client's address and key, so an operator can see who knocked.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from fibsims.instrument.transport.errors import LinkConfigError

SERVER_KEY_FLAGS = ("--server-key", "--authorized-clients")
"""The command-line flags that give an instrument server its keys; every message about a
server's keys names the flags of the command at hand (the event publisher has its own)."""

log = logging.getLogger("fibsims.link.auth")
HANDSHAKE_FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)
"""The monitor events, on either end, of a refused CurveZMQ handshake."""


@dataclass(frozen=True)
class KeyFiles:
    """What ``fibsims keys generate`` wrote."""

    server_public: Path
    server_secret: Path
    client_public: Path
    client_secret: Path
    authorized_clients: Path


def generate_keys(folder: Path, *, force: bool = False) -> KeyFiles:
    """Write a server and a client keypair into ``folder``, and an authorised-clients folder
    holding the client's public key. Refuses to overwrite existing keys unless ``force``."""
    files = KeyFiles(
        server_public=folder / "server.key",
        server_secret=folder / "server.key_secret",
        client_public=folder / "client.key",
        client_secret=folder / "client.key_secret",
        authorized_clients=folder / "authorized_clients",
    )
    existing = [p for p in (files.server_secret, files.client_secret) if p.exists()]
    if existing and not force:
        raise LinkConfigError(
            f"{existing[0]} already exists; keep those keys, choose another --dir, or pass "
            "--force to replace them (clients holding the old keys will be refused)"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        zmq.auth.create_certificates(str(folder), "server")
        zmq.auth.create_certificates(str(folder), "client")
        for secret in (files.server_secret, files.client_secret):
            os.chmod(secret, 0o600)
        files.authorized_clients.mkdir(exist_ok=True)
        shutil.copy(files.client_public, files.authorized_clients / files.client_public.name)
    except OSError as error:
        raise LinkConfigError(f"cannot write keys into {folder}: {error}") from None
    return files


def _read(path: Path, flag: str, *, secret: bool = True) -> tuple[bytes, bytes]:
    """The (public, secret) keys of a certificate file; the secret is required if ``secret``
    (else it may be empty)."""
    try:
        public, key = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as error:
        raise LinkConfigError(f"{flag}: cannot read the key file {path}: {error}") from None
    if secret and key is None:
        raise LinkConfigError(f"{flag}: {path} holds only a public key; pass the *.key_secret file")
    return public, key or b""


@dataclass(frozen=True)
class ServerKeys:
    """A server's secret certificate and its folder of authorised client public keys, and the
    two flags they came from (for messages)."""

    secret_file: Path
    authorized_clients: Path
    flags: tuple[str, str] = SERVER_KEY_FLAGS

    def load(self) -> tuple[bytes, bytes, dict[bytes, bool]]:
        key_flag, folder_flag = self.flags
        public, secret = _read(self.secret_file, key_flag)
        folder = self.authorized_clients
        if not folder.is_dir():
            raise LinkConfigError(f"{folder_flag}: {folder} is not a folder of client *.key files")
        allowed = zmq.auth.load_certificates(str(folder))
        if not allowed:
            raise LinkConfigError(
                f"{folder_flag}: {folder} holds no client public keys (*.key); "
                "copy each client's client.key there"
            )
        return public, secret, allowed


@dataclass(frozen=True)
class ClientKeys:
    """The server's public certificate (pinned) and this client's secret certificate."""

    server_public_file: Path
    client_secret_file: Path

    def apply(self, socket: zmq.Socket[Any]) -> None:
        server_public = _read(self.server_public_file, "--server-public-key", secret=False)[0]
        public, secret = _read(self.client_secret_file, "--client-key")
        socket.curve_serverkey = server_public
        socket.curve_publickey = public
        socket.curve_secretkey = secret


class RefusalLoggingAuthenticator(ThreadAuthenticator):
    """A ZAP authenticator admitting the authorised keys and logging every refusal."""

    def __init__(self, context: zmq.Context[Any], allowed: dict[bytes, bool]) -> None:
        super().__init__(context, log=logging.getLogger("fibsims.link.zap"))
        self._authorised_keys = allowed
        self._peer = ""

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        self._peer = msg[3].decode("utf-8", "replace") if len(msg) > 3 else "?"
        await super().handle_zap_message(msg)

    def callback(self, domain: str, key: bytes) -> bool:
        if self._authorised_keys.get(key):
            return True
        log.warning(
            "refused a client at %s: its CurveZMQ key %s is not among the authorised clients",
            self._peer or "?",
            key.decode("ascii", "replace"),
        )
        return False


def start_authenticator(
    context: zmq.Context[Any], allowed: dict[bytes, bool]
) -> RefusalLoggingAuthenticator:
    """Start the ZAP handler of ``context``, admitting only the ``allowed`` public keys."""
    auth = RefusalLoggingAuthenticator(context, allowed)
    auth.start()
    auth.configure_curve_callback(domain="*", credentials_provider=auth)
    return auth


def close_monitored(sock: zmq.Socket[Any] | None, monitor: zmq.Socket[Any] | None) -> None:
    """Close a socket and its handshake monitor (either may be None), dropping anything queued."""
    if sock is not None:
        sock.disable_monitor()
        sock.close(linger=0)
    if monitor is not None:
        monitor.close(linger=0)


def make_curve_server(socket: zmq.Socket[Any], public: bytes, secret: bytes) -> None:
    socket.curve_secretkey = secret
    socket.curve_publickey = public
    socket.curve_server = True


def require_keys_off_loopback(
    address: str, is_local: bool, has_keys: bool, flags: tuple[str, str] = SERVER_KEY_FLAGS
) -> None:
    """Refuse to serve beyond this machine without authentication; ``flags`` are the two
    options that would give this command its keys."""
    if not is_local and not has_keys:
        raise LinkConfigError(
            f"refusing to bind {address} without CurveZMQ keys: only loopback "
            "(tcp://127.0.0.1:PORT) or ipc:// may run unauthenticated. Create keys with "
            f"`fibsims keys generate` and pass {flags[0]} and {flags[1]}"
        )
