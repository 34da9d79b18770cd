"""``fibsims run``, ``resume``, ``status``, ``abort`` and ``pause``: thin wrappers over the run
services."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from fibsims.cli.link_commands import (
    ClientKey,
    PublishAuthorizedClients,
    PublishOption,
    PublishServerKey,
    ServerPublicKey,
    client_keys,
    publish_keys,
)
from fibsims.cli.options import SetOption
from fibsims.recipe.bounds import MAX_RUN_HOURS, MAX_SEED

if TYPE_CHECKING:
    from fibsims.service.runs import RunReport
    from fibsims.service.sites import SitesReport

# The run services (and through them h5py, the engine and the data layer) are imported when a
# command runs, not when the CLI starts: `fibsims estimate` and `validate` must not pay for them.

DEBUG_ENV = "FIBSIMS_DEBUG"

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")

FaultOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fault",
        help="Inject a fault into the twin, e.g. beam_current_drop@slice=3,duration_s=600 "
        "(repeatable; kinds: beam_current_drop, pressure_spike, transient, hardware_fault, "
        "autofocus_failure, interlock).",
    ),
]
ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing but errors and the final one-line result."),
]
JsonEventsOption = Annotated[
    bool,
    typer.Option(
        "--json-events",
        help="Print every engine event as one JSON object per line on stdout (keys event, "
        "t_s, slice, then the event's fields), for scripts; no bar. The run folder and the "
        "final result go to stderr.",
    ),
]


def _guarded(call: Callable[[], T]) -> T:
    """Run a service call; no exit path prints a traceback. Bad input is a message and exit
    code 2; a run stopped on the way (a signal, a run file that cannot be written, a bug) is
    a message and exit code 1, the details in the run folder's log.jsonl."""
    from fibsims.cli.render import render_recipe_error
    from fibsims.engine.preflight import PreflightError
    from fibsims.instrument.errors import InstrumentError
    from fibsims.recipe import RecipeError
    from fibsims.service.faults import FaultSpecError
    from fibsims.service.finalize import FinalizeFailed
    from fibsims.service.runs import RunFolderError
    from fibsims.service.signals import Interrupted
    from fibsims.service.status import AbortPending, PausePending

    try:
        return call()
    except typer.Exit:
        raise
    except RecipeError as error:
        render_recipe_error(err, error)
    except (RunFolderError, InstrumentError, PreflightError, FaultSpecError) as error:
        err.print(f"error: {error}", markup=False)
    except (Interrupted, FinalizeFailed, AbortPending, PausePending) as error:
        err.print(f"stopped: {error}", markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted; `fibsims status DIR` tells where the run stands")
        raise typer.Exit(1) from None
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        err.print(
            f"internal error: {type(error).__name__}: {error}. This is a fibsims bug; the "
            f"traceback is in the run folder's log.jsonl (or set {DEBUG_ENV}=1 to see it). "
            "`fibsims status DIR` tells where the run stands.",
            markup=False,
        )
        raise typer.Exit(1) from None
    raise typer.Exit(2)


def _finish(
    report: RunReport | SitesReport, quiet: bool = False, json_events: bool = False
) -> None:
    """The result: in full, or in one line (``--quiet`` on stdout; ``--json-events`` on
    stderr, so that stdout holds nothing but events)."""
    from fibsims.cli.render import render_run_line, render_run_report
    from fibsims.cli.sites_render import render_sites_report
    from fibsims.service.sites import SitesReport

    if isinstance(report, SitesReport):
        if quiet or json_events:
            why = f"; reason: {report.reason}" if report.reason else ""
            (err if json_events else out).print(
                f"run {report.status}: {report.folder}{why}", markup=False
            )
        else:
            render_sites_report(out, report)
    elif json_events:
        render_run_line(err, report)
    elif quiet:
        render_run_line(out, report)
    else:
        render_run_report(out, report)
    raise typer.Exit(0 if report.ok else 1)


def _silent(text: str) -> None:
    """``--quiet``: the folder line, warnings and notes stay in the run's log.jsonl."""


def _output(progress: bool, quiet: bool, json_events: bool) -> dict[str, Any]:
    """What a run or resume prints, as request fields: the bar (default), nothing but the
    result (``--quiet``), or JSON lines on stdout (``--json-events``, no bar)."""
    fields: dict[str, Any] = {"progress": progress and not quiet and not json_events}
    if quiet:
        fields["tell"] = _silent
    if json_events:
        fields["event_lines"] = sys.stdout
    return fields


def run(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML to run.")],
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run folder (default: a new folder under ./runs/)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            "-s",
            min=0,
            max=MAX_SEED,
            help="Run seed (default: the recipe's twin seed).",
        ),
    ] = None,
    instrument: Annotated[
        str,
        typer.Option(
            "--instrument",
            "-i",
            help="Instrument backend name, or the address of an instrument server "
            "(tcp://HOST:PORT, see `fibsims sim serve`). Default: the in-process twin.",
        ),
    ] = "sim",
    tof: Annotated[
        str | None,
        typer.Option(
            "--tof",
            help="Take the ToF-SIMS spectrometer from this backend instead, e.g. "
            "`--instrument openfibsem --tof sim`: the FIB from OpenFIBSEM, the spectrometer "
            "from the twin (same as --instrument openfibsem,tof=sim).",
        ),
    ] = None,
    overrides: SetOption = None,
    progress: ProgressOption = True,
    quiet: QuietOption = False,
    json_events: JsonEventsOption = False,
    fault: FaultOption = None,
    truth: Annotated[
        bool,
        typer.Option(
            "--truth",
            help="Record the phantom's ground truth of every acquired face next to the data "
            "and score the 7Li map against it (simulated instruments only).",
        ),
    ] = False,
    publish: PublishOption = None,
    publish_server_key: PublishServerKey = None,
    publish_authorized_clients: PublishAuthorizedClients = None,
    server_public_key: ServerPublicKey = None,
    client_key: ClientKey = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Preflight and estimate only: print the time, data, problems and warnings; "
            "nothing moves and no folder is made.",
        ),
    ] = False,
) -> None:
    """Run a recipe slice by slice and write the run folder (run.h5, log, summary).

    Ctrl-C pauses at the end of the running step (a second Ctrl-C stops at once); either way
    the beam is blanked and `fibsims resume DIR` continues."""
    if tof:
        from fibsims.instrument.composition import with_devices

        instrument = _guarded(lambda: with_devices(instrument, tof=tof))
    if dry_run:
        from fibsims.cli.dry_run import dry_run as preview

        raise typer.Exit(
            preview(
                recipe,
                out=out_dir,
                seed=seed,
                instrument=instrument,
                truth=truth,
                overrides=tuple(overrides or ()),
            )
        )
    from fibsims.service import sites
    from fibsims.service.runs import RunRequest

    request = RunRequest(
        recipe_path=recipe,
        out=out_dir,
        seed=seed,
        instrument=instrument,
        faults=tuple(fault or ()),
        truth=truth,
        publish=publish,
        publish_keys=publish_keys(publish_server_key, publish_authorized_clients),
        link_keys=client_keys(server_public_key, client_key),
        overrides=tuple(overrides or ()),
        **_output(progress, quiet, json_events),
    )
    _guarded(lambda: _finish(sites.start(request), quiet, json_events))


def resume(
    folder: Annotated[Path, typer.Argument(help="The run folder to continue.")],
    max_hours: Annotated[
        float | None,
        typer.Option(
            "--max-hours",
            min=0.001,
            max=MAX_RUN_HOURS,
            help="A new limits.max_hours of instrument time for the whole run (kept for later "
            "resumes): continues a run stopped by its time limit.",
        ),
    ] = None,
    progress: ProgressOption = True,
    quiet: QuietOption = False,
    json_events: JsonEventsOption = False,
    fault: FaultOption = None,
    publish: PublishOption = None,
    publish_server_key: PublishServerKey = None,
    publish_authorized_clients: PublishAuthorizedClients = None,
    server_public_key: ServerPublicKey = None,
    client_key: ClientKey = None,
) -> None:
    """Continue a paused, failed or killed run from its first slice not committed."""
    from fibsims.service import sites
    from fibsims.service.runs import ResumeRequest

    request = ResumeRequest(
        folder=folder,
        max_hours=max_hours,
        faults=tuple(fault or ()),
        publish=publish,
        publish_keys=publish_keys(publish_server_key, publish_authorized_clients),
        link_keys=client_keys(server_public_key, client_key),
        **_output(progress, quiet, json_events),
    )
    _guarded(lambda: _finish(sites.resume(request), quiet, json_events))


def _show(status: dict[str, Any], as_json: bool) -> None:
    from fibsims.cli.sites_render import render_any_status

    if as_json:
        out.print(json.dumps(status, indent=2), markup=False)
    else:
        render_any_status(out, status)


def status(
    folder: Annotated[Path, typer.Argument(help="The run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """State, progress, last event, and why the run stopped."""
    from fibsims.service.sites_status import status as status_of

    _guarded(lambda: _show(status_of(folder), as_json))


def abort(
    folder: Annotated[Path, typer.Argument(help="The run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Give a run up: a live one aborts at its next safe point, a stopped one is closed."""
    from fibsims.service.sites_status import abort as abort_any

    _guarded(lambda: _show(abort_any(folder), as_json))


def pause(
    folder: Annotated[Path, typer.Argument(help="The run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Pause a live run from any terminal, at the end of its running step (as Ctrl-C in its
    own); `fibsims resume` continues it. Works on Windows, where no signal can pause it."""
    from fibsims.service.sites_status import pause as pause_any

    _guarded(lambda: _show(pause_any(folder), as_json))


def register(app: typer.Typer) -> None:
    for command in (run, resume, status, abort, pause):
        app.command()(command)
