"""``fibsims serve`` (also ``fibsims sim serve``), ``fibsims keys generate`` and
``fibsims watch``: the link commands.

Thin, like the rest of the CLI: parse flags, call the transport or the live-event subscriber,
render. Bad input (an address, a port in use, a missing key file) is one clear line on stderr
and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fibsims.data.platform import stop_signals
from fibsims.data.run_progress import (
    RunProgress,
    duration_text,
    instrument_time_text,
    step_text,
)

if TYPE_CHECKING:
    from fibsims.data.live import EventSubscriber
    from fibsims.instrument.registry import InstrumentOptions
    from fibsims.instrument.transport import ClientKeys, ServerKeys

# The transport (ZeroMQ) and the live-event subscriber are imported inside the commands that
# use them: every command module is imported when the CLI starts, and these cost a quarter of
# a second that `fibsims estimate` or `validate` must not pay. The options below therefore
# spell out the transport's environment variables; a test holds them equal to the client's.
SERVER_KEY_ENV = "FIBSIMS_SERVER_PUBLIC_KEY"
CLIENT_KEY_ENV = "FIBSIMS_CLIENT_KEY"

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

sim_app = typer.Typer(help="The digital twin as an instrument server.", no_args_is_help=True)
keys_app = typer.Typer(help="CurveZMQ keys for the instrument link.", no_args_is_help=True)

ServerPublicKey = Annotated[
    Path | None,
    typer.Option(
        "--server-public-key",
        envvar=SERVER_KEY_ENV,
        help="The server's public key file (server.key); needs --client-key.",
    ),
]
ClientKey = Annotated[
    Path | None,
    typer.Option(
        "--client-key",
        envvar=CLIENT_KEY_ENV,
        help="This client's secret key file (client.key_secret).",
    ),
]
PublishOption = Annotated[
    str | None,
    typer.Option(
        "--publish",
        help="Publish live events on this address for `fibsims watch` "
        "(loopback or ipc://, e.g. tcp://127.0.0.1:5600).",
    ),
]


PublishServerKey = Annotated[
    Path | None,
    typer.Option(
        "--publish-server-key",
        help="Secret key file the event publisher serves with (needed to --publish beyond "
        "loopback); needs --publish-authorized-clients.",
    ),
]
PublishAuthorizedClients = Annotated[
    Path | None,
    typer.Option(
        "--publish-authorized-clients",
        help="Folder of the watchers' public keys (*.key) the publisher admits.",
    ),
]


def fail(message: str) -> typer.Exit:
    err.print(f"error: {message}", markup=False)
    return typer.Exit(2)


def client_keys(server_public_key: Path | None, client_key: Path | None) -> ClientKeys | None:
    """Both key files or neither; anything else is bad input (exit 2)."""
    if server_public_key is None and client_key is None:
        return None
    if server_public_key is None or client_key is None:
        raise fail("pass both --server-public-key and --client-key (or neither)")
    from fibsims.instrument.transport import ClientKeys

    return ClientKeys(server_public_key, client_key)


def publish_keys(server_key: Path | None, authorized: Path | None) -> ServerKeys | None:
    """Both publisher key options or neither; anything else is bad input (exit 2)."""
    from fibsims.data.live import KEY_FLAGS
    from fibsims.instrument.transport import ServerKeys

    if server_key is None and authorized is None:
        return None
    if server_key is None or authorized is None:
        raise fail(f"pass both {KEY_FLAGS[0]} and {KEY_FLAGS[1]} (or neither)")
    return ServerKeys(server_key, authorized, flags=KEY_FLAGS)


@sim_app.command("serve")
def serve(
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            help="Backend to serve (an installed name, e.g. openfibsem, or a composition such "
            "as openfibsem,tof=sim); `fibsims backends` lists them.",
        ),
    ] = "sim",
    bind: Annotated[
        str, typer.Option("--bind", help="Address to serve on; anything but loopback needs keys.")
    ] = "tcp://127.0.0.1:5555",
    server_key: Annotated[
        Path | None,
        typer.Option("--server-key", help="The server's secret key file (server.key_secret)."),
    ] = None,
    authorized_clients: Annotated[
        Path | None,
        typer.Option(
            "--authorized-clients", help="Folder of the client public keys (*.key) to admit."
        ),
    ] = None,
    drop_replies: Annotated[
        float,
        typer.Option(
            "--drop-replies", min=0.0, max=0.99, help="Fault: fraction of call replies to drop."
        ),
    ] = 0.0,
    delay_ms: Annotated[
        float, typer.Option("--delay-ms", min=0.0, help="Fault: delay before every call reply.")
    ] = 0.0,
    disconnect_every: Annotated[
        int,
        typer.Option(
            "--disconnect-every", min=0, help="Fault: cut connections every N call replies."
        ),
    ] = 0,
    restart_after_calls: Annotated[
        int,
        typer.Option(
            "--restart-after-calls", min=0, help="Fault: restart the socket once after N calls."
        ),
    ] = 0,
    restart_downtime_ms: Annotated[
        float,
        typer.Option(
            "--restart-downtime-ms", min=0.0, help="Fault: how long a restart stays down."
        ),
    ] = 300.0,
    forget_on_restart: Annotated[
        bool,
        typer.Option(
            "--forget-on-restart", help="Fault: the restart loses sessions and cached replies."
        ),
    ] = False,
    fault_seed: Annotated[
        int,
        typer.Option(
            "--fault-seed", min=0, help="Seed of the fault injection (reproducible faults)."
        ),
    ] = 0,
) -> None:
    """Serve an instrument backend (the digital twin by default) over the fibsims link protocol
    until Ctrl-C or SIGTERM (Ctrl-Break on Windows); the beam of every open session is blanked
    before it exits. On an instrument PC: `fibsims serve --instrument NAME --bind ... --server-key
    ... --authorized-clients ...`."""
    from fibsims.instrument.errors import InstrumentError
    from fibsims.instrument.registry import check_instrument_name
    from fibsims.instrument.transport import (
        PROTOCOL_NAME,
        FaultPlan,
        InstrumentServer,
        LinkConfigError,
        ServerKeys,
    )

    if (server_key is None) != (authorized_clients is None):
        raise fail("pass both --server-key and --authorized-clients (or neither)")
    if "://" in instrument:
        raise fail(
            f"--instrument {instrument}: serve an installed backend by name, not an address "
            "(a client connects to that server directly)"
        )
    try:
        check_instrument_name(instrument)
    except InstrumentError as error:
        raise fail(f"--instrument: {error}") from None
    keys = ServerKeys(server_key, authorized_clients) if server_key and authorized_clients else None
    try:
        faults = FaultPlan(
            drop_replies=drop_replies,
            delay_ms=delay_ms,
            disconnect_every=disconnect_every,
            restart_after_calls=restart_after_calls,
            restart_downtime_ms=restart_downtime_ms,
            forget_on_restart=forget_on_restart,
            seed=fault_seed,
        )
        server = InstrumentServer(_opener(instrument), bind, keys=keys, faults=faults)
        _log_to_stderr()
        server.start()
    except LinkConfigError as error:
        raise fail(str(error)) from None
    security = "CurveZMQ on" if keys else "CurveZMQ off, loopback only"
    with _stop_on_signals() as stop:
        served = "the twin" if instrument == "sim" else instrument
        out.print(
            f"serving {served} on {server.endpoint} ({PROTOCOL_NAME}, {security})", markup=False
        )
        out.file.flush()
        while server.is_serving() and not stop.wait(0.2):
            pass
        failed = not server.is_serving()
        server.stop()  # blanks the beam of every open session first
    out.print("stopped; " + json.dumps(server.stats(), sort_keys=True), markup=False)
    if failed:
        err.print("error: the server stopped on its own; see the log above", markup=False)
        raise typer.Exit(1)


def _opener(name: str) -> Any:
    """The factory the server calls for each session: the backend ``name``, opened anew."""

    def open_backend(options: InstrumentOptions) -> Any:
        from fibsims.instrument.registry import open_instrument

        return open_instrument(name, options)

    return open_backend


def _log_to_stderr() -> None:
    """The server's log (sessions, refusals, injected faults) on stderr, once per process."""
    logger = logging.getLogger("fibsims.link")
    if not any(getattr(h, "fibsims_serve", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.fibsims_serve = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT (Ctrl-C), SIGTERM and, on Windows, SIGBREAK (Ctrl-Break) set the event instead
    of raising, also while the server stops: a second Ctrl-C must not cut short the blanking of
    the beams. On Windows another process cannot deliver SIGTERM (``os.kill`` terminates at
    once, without blanking): stop the server with Ctrl-C or Ctrl-Break in its console."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    signals = stop_signals()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in signals}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@keys_app.command("generate")
def keys_generate(
    folder: Annotated[Path, typer.Option("--dir", help="Folder to write the keys into.")] = Path(
        "keys"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
) -> None:
    """Write a CurveZMQ server keypair, a client keypair and an authorised-clients folder."""
    from fibsims.instrument.transport import LinkConfigError, generate_keys

    try:
        files = generate_keys(folder, force=force)
    except LinkConfigError as error:
        raise fail(str(error)) from None
    lines = [
        f"wrote CurveZMQ keys in {folder}",
        f"  server secret (stays on the instrument PC): {files.server_secret}",
        f"  server public (give to clients):            {files.server_public}",
        f"  client secret (stays on the workstation):   {files.client_secret}",
        f"  authorised clients (holds client.key):      {files.authorized_clients}",
        "serve: fibsims sim serve --bind tcp://0.0.0.0:5555 "
        f"--server-key {files.server_secret} --authorized-clients {files.authorized_clients}",
        "run:   fibsims run RECIPE --instrument tcp://HOST:5555 "
        f"--server-public-key {files.server_public} --client-key {files.client_secret}",
    ]
    for line in lines:
        out.print(line, markup=False)


def watch(
    address: Annotated[str, typer.Argument(help="The run's --publish address.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per event.")] = False,
    timeout_s: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.0, help="Give up after this many seconds without an event."
        ),
    ] = None,
    server_public_key: ServerPublicKey = None,
    client_key: ClientKey = None,
) -> None:
    """Follow a run's live events: slices, instrument time, last step, state."""
    from fibsims.data.live import EventSubscriber
    from fibsims.instrument.transport import LinkConfigError

    keys = client_keys(server_public_key, client_key)
    try:
        subscriber = EventSubscriber(address, keys=keys)
    except LinkConfigError as error:
        raise fail(str(error)) from None
    try:
        progress = _follow(subscriber, as_json, timeout_s)
    except KeyboardInterrupt:
        err.print("stopped watching", markup=False)
        raise typer.Exit(130) from None
    finally:
        subscriber.close()
    if progress is None:
        err.print(f"no events from {address} for {timeout_s:g} s", markup=False)
        raise typer.Exit(1)
    if not as_json:
        hours = progress.t_s / 3600.0
        out.print(
            f"{progress.status}: {progress.slices_completed}/{progress.slices_planned} "
            f"slices, instrument time {hours:.2f} h",
            markup=False,
        )
        if progress.reason:
            out.print(f"reason: {progress.reason}", markup=False)
    raise typer.Exit(0 if progress.status == "completed" else 1)


def _follow(
    subscriber: EventSubscriber, as_json: bool, timeout_s: float | None
) -> RunProgress | None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "slices  {task.fields[state]}  instrument {task.fields[instrument]}  "
            "{task.fields[last]}  {task.fields[eta]}"
        ),
        console=err,
        disable=as_json,
    )
    task = bar.add_task("waiting for events", total=None, state="", instrument="", last="", eta="")
    with bar:
        while (message := subscriber.receive(timeout_s)) is not None:
            progress = RunProgress.from_dict(message.get("progress", {}))
            if as_json:
                out.print(
                    json.dumps(message["event"], sort_keys=True), markup=False, soft_wrap=True
                )
            bar.update(
                task,
                description=progress.recipe or "run",
                total=progress.slices_planned or None,
                completed=progress.slices_completed,
                state=progress.state,
                instrument=instrument_time_text(
                    progress.t_s, progress.expected_end_s, progress.expected_is_floor
                ),
                last=step_text(progress.current_step) or progress.last_step,
                eta=_eta_text(progress),
            )
            if progress.finished:
                return progress
    return None


def _eta_text(progress: RunProgress) -> str:
    """The publisher's ETA (its wall clock, as this host reads the time)."""
    finish = progress.finish_wall_s()
    return "" if finish is None else f"ETA {duration_text(finish - time.time())}"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)  # any backend; `fibsims sim serve` is the same command
    app.add_typer(sim_app, name="sim")
    app.add_typer(keys_app, name="keys")
    app.command()(watch)
