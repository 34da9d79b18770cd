"""``connect``: open a remote instrument and get back an ordinary :class:`Instrument`.

The registry sends every backend name containing ``://`` here, so
``fibsims run recipe.yaml --instrument tcp://host:5555`` needs nothing else in the service.
Keys come from the ``keys`` argument or, when it is not given, from the environment variables
``FIBSIMS_SERVER_PUBLIC_KEY`` and ``FIBSIMS_CLIENT_KEY`` (the same files as the CLI flags
``--server-public-key`` and ``--client-key``).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_json

from fibsims.instrument.capabilities import Capabilities
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.registry import InstrumentOptions
from fibsims.instrument.transport.derived import PROXIES, method_table, proxy_class
from fibsims.instrument.transport.errors import LinkConfigError, LinkProtocolError
from fibsims.instrument.transport.frames import summarize_validation
from fibsims.instrument.transport.link import Link, LinkSettings
from fibsims.instrument.transport.protocol import Limits, OpenParams, OpenResult
from fibsims.instrument.transport.security import ClientKeys

SERVER_KEY_ENV = "FIBSIMS_SERVER_PUBLIC_KEY"
CLIENT_KEY_ENV = "FIBSIMS_CLIENT_KEY"
OPEN_HEADER_ROOM = 256  # the envelope around the params: version, id, method, arrays


class RemoteClock(PROXIES["clock"]):  # type: ignore[misc,valid-type]
    def now_s(self) -> float:
        """The server's instrument time. Once the link is lost, the last time it reported:
        no instrument time passes that the orchestrator could see, and the engine can still
        stamp the events that close the run (every reply carries the server's time)."""
        if self._link.lost is not None:
            return self._link.last_clock_s
        return float(super().now_s())


@dataclass(kw_only=True)
class RemoteInstrument(Instrument):
    """An instrument served over the link. ``link`` exposes the session and its state."""

    link: Link
    address: str

    def close(self) -> None:
        """End the session (best effort: a lost server is not waited for) and the socket."""
        try:
            with contextlib.suppress(Exception):  # never mask the error that ended the run
                if self.link.lost is None and self.link.session is not None:
                    self.link.call("session.close", idempotent=False)
        finally:
            self.link.close()


def keys_from_environment() -> ClientKeys | None:
    server, client = os.environ.get(SERVER_KEY_ENV), os.environ.get(CLIENT_KEY_ENV)
    if not server and not client:
        return None
    if not (server and client):
        raise LinkConfigError(
            f"set both {SERVER_KEY_ENV} and {CLIENT_KEY_ENV} (or neither) to use CurveZMQ keys"
        )
    return ClientKeys(Path(server), Path(client))


def _open_params(options: InstrumentOptions, link: Link) -> OpenParams:
    """The session.open parameters, refused here as the server would refuse them. A header
    beyond the limit would be refused before the server could read its id; say why here
    instead, naming the free-form parts that make it large."""
    try:
        params = OpenParams(
            **asdict(options),
            client=f"fibsims@{socket.gethostname()}",
            dead_after_s=link.settings.dead_after_s,
        )
    except ValidationError as error:
        raise LinkConfigError(
            "cannot open a session with these options: " + summarize_validation(error, lead="")
        ) from None
    size = len(params.model_dump_json().encode()) + OPEN_HEADER_ROOM
    if size > (limit := link.limits.max_header_bytes):
        parts = ("sample", "faults", "sample_state")
        sizes = ", ".join(f"{name} {len(to_json(getattr(params, name))):,}" for name in parts)
        raise LinkConfigError(
            f"cannot open a session with these options: the session.open header would be about "
            f"{size:,} bytes, above the header limit of {limit:,} (bytes of JSON: {sizes})"
        )
    return params


def connect(
    address: str,
    options: InstrumentOptions,
    *,
    keys: ClientKeys | None = None,
    settings: LinkSettings | None = None,
    limits: Limits | None = None,
    devices: Mapping[str, type] | None = None,
) -> RemoteInstrument:
    """Open a session on the server at ``address`` built from ``options``; ``devices``
    (attribute name to interface) extends or replaces the interfaces proxied."""
    link = Link(address, keys if keys is not None else keys_from_environment(), settings, limits)
    try:
        params = _open_params(options, link)
        result, _ = link.call("session.open", params, idempotent=False, session=False)
        opened = OpenResult.model_validate(result)
        capabilities = _capabilities(opened.capabilities)
    except BaseException:
        link.close()
        raise
    link.session, link.boot = opened.session, opened.boot  # the heartbeat thread now pings
    offered = {"truth": opened.has_truth, "vacuum": opened.has_vacuum, "costs": opened.has_costs}
    known = {"column": {"ion_species": opened.ion_species}}  # fixed by the source
    proxies = {**PROXIES, "clock": RemoteClock}
    if devices is not None:  # (the clock then has no last-time fallback once the link is lost)
        table = method_table(devices)
        proxies = {name: proxy_class(kind, name, table) for name, kind in devices.items()}
    devices = {
        name: proxy(link, known.get(name))
        for name, proxy in proxies.items()
        if offered.get(name, True)
    }
    return RemoteInstrument(
        name=opened.instrument,
        capabilities=capabilities,
        link=link,
        address=address,
        **devices,
    )


def _capabilities(data: dict[str, Any] | None) -> Capabilities | None:
    """The server's declared capabilities; a malformed declaration is a protocol error."""
    if data is None:
        return None
    try:
        return Capabilities.from_json(data)
    except ValueError as error:
        raise LinkProtocolError(f"the server's capabilities cannot be read: {error}") from None
