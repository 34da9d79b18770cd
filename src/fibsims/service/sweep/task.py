"""One variant, run where a Dask worker runs it: what a sweep's task does.

It is a normal run of the base recipe with the variant's ``--set`` overrides, its seed and
``--truth``, through the services ``fibsims run`` and ``fibsims resume`` use
(:func:`~fibsims.service.runs.start_in_folder`, :func:`~fibsims.service.runs.resume_in_folder`),
in the variant's own run folder. A folder holding a stopped run of the variant (paused, failed,
killed with the worker) is resumed from its first uncommitted slice; an aborted one is set aside
and the variant started again; a folder without a run (a start cut short) is cleared first.

Once the run completed, the variant's folder size is taken, its preview written
(:mod:`fibsims.data.sweep_preview`), ``sweep_variant.json`` written (the mark that the variant is
done) and only then, with ``--keep summary``, the bulk deleted (:mod:`.keep`). The task never
raises: it returns a result whose ``error`` is one line for the table and whose ``traceback``
goes to the sweep's log.

Nothing here imports Dask: a worker needs ``pip install fibsims`` and the folder ``--out``
names, at the same path (a shared filesystem on a cluster).
"""

from __future__ import annotations

import shutil
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_json_atomic
from fibsims.data.state_file import read_json_object
from fibsims.data.sweep_preview import write_preview
from fibsims.engine.preflight import PreflightError
from fibsims.instrument.errors import InstrumentError
from fibsims.recipe import RecipeError
from fibsims.service.faults import FaultSpecError
from fibsims.service.folder import RunFolderError
from fibsims.service.sweep.keep import folder_bytes, prune

RESULT_NAME = "sweep_variant.json"
"""Written in a variant's folder once it is done (preview taken, size measured)."""


@dataclass(frozen=True)
class VariantTask:
    id: str
    folder: str
    """The variant's run folder, absolute (as every worker must see it)."""
    recipe_text: str
    recipe_source: str
    sets: tuple[str, ...]
    seed: int
    keep: str = "summary"
    instrument: str = "sim"
    faults: tuple[str, ...] = ()


class VariantFolderError(Exception):
    """The worker cannot use the variant's folder."""


def one_line(error: BaseException) -> str:
    """An error as one line of the table: its message, newlines folded."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, _EXPECTED) else f"{type(error).__name__}: {text}"


def _silent(text: str) -> None:
    """The run's notes stay in its own log.jsonl."""


def run_variant(task: VariantTask) -> dict[str, Any]:
    """Run (or resume, or only finish) the variant; its result, never an exception."""
    from threadpoolctl import threadpool_limits

    started = time.monotonic()
    folder = Path(task.folder)
    result: dict[str, Any]
    try:
        with threadpool_limits(1):  # one variant per core: BLAS threads would fight over it
            status, reason = _run(task, folder)
            result = _outcome(task, folder, status, reason)
    except Exception as error:
        result = {"status": "failed", "error": one_line(error)}
        result["traceback"] = traceback.format_exc()
        summary = read_json_object(folder / "summary.json") if folder.is_dir() else None
        result.update(_figures(summary or {}))
    result["wall_seconds"] = round(time.monotonic() - started, 3)
    result["host"] = socket.gethostname()
    return result


def _run(task: VariantTask, folder: Path) -> tuple[str, str]:
    from fibsims.service.status import run_status

    if not folder.parent.is_dir():
        raise VariantFolderError(
            f"{folder.parent} does not exist on {socket.gethostname()}: the sweep's --out must "
            "be on a filesystem every Dask worker sees, at the same path"
        )
    if (folder / "run.json").is_file():
        state = run_status(folder)["state"]
        if state == "completed":
            return "completed", ""  # only its preview and mark were missing
        if state != "aborted":
            return _resume(task, folder)
        _set_aside(folder)
    elif folder.exists():
        shutil.rmtree(folder)  # a start cut before run.json: nothing of it is a run
    return _start(task, folder)


def _start(task: VariantTask, folder: Path) -> tuple[str, str]:
    from fibsims.recipe import parse_overrides, parse_recipe
    from fibsims.service.faults import resolve_faults
    from fibsims.service.runs import RunRequest, start_in_folder
    from fibsims.service.signals import run_control

    overrides = parse_overrides(task.sets)
    recipe = parse_recipe(task.recipe_text, task.recipe_source, overrides)
    folder.mkdir(exist_ok=True)
    request = RunRequest(
        recipe_path=Path(task.recipe_source),
        out=folder,
        seed=task.seed,
        instrument=task.instrument,
        progress=False,
        faults=task.faults,
        truth=True,
        tell=_silent,
        overrides=task.sets,
    )
    with run_control() as control:  # no handlers off the main thread: the sweep stops us
        report = start_in_folder(
            control,
            request,
            folder,
            [],
            text=task.recipe_text,
            recipe=recipe,
            seed=task.seed,
            faults=resolve_faults(task.faults, recipe),
            overrides=overrides,
        )
    return report.status, str(report.summary.get("reason", "") or "")


def _resume(task: VariantTask, folder: Path) -> tuple[str, str]:
    from fibsims.service.runs import ResumeRequest, resume_in_folder
    from fibsims.service.signals import run_control

    request = ResumeRequest(folder=folder, progress=False, faults=task.faults, tell=_silent)
    with run_control() as control:
        report = resume_in_folder(control, request)
    return report.status, str(report.summary.get("reason", "") or "")


def _set_aside(folder: Path) -> None:
    """An aborted run of the variant is kept beside the variants, not deleted."""
    aside = folder.parent.parent / "superseded"
    aside.mkdir(exist_ok=True)
    folder.rename(aside / f"{folder.name}-aborted-{time.strftime('%Y%m%d-%H%M%S')}")


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The table's figures from a run's summary.json."""
    seconds = summary.get("simulated_seconds")
    quality = summary.get("quality")
    return {
        "simulated_seconds": seconds,
        "slices_done": summary.get("slices_completed"),
        "quality": quality if isinstance(quality, dict) else {},
    }


def _outcome(task: VariantTask, folder: Path, status: str, reason: str) -> dict[str, Any]:
    summary = read_json_object(folder / "summary.json") or {}
    result: dict[str, Any] = _figures(summary)
    if status != "completed":
        result["status"] = "failed"
        result["error"] = f"the run ended {status}" + (f": {reason}" if reason else "")
        result["data_bytes"] = folder_bytes(folder)
        return result
    done = read_json_object(folder / RESULT_NAME)
    if done is None:
        data_bytes = folder_bytes(folder)
        preview = write_preview(folder / "run.h5", folder)
        done = {
            "variant": task.id,
            "status": "done",
            "data_bytes": data_bytes,
            "preview": [p.name for p in preview],
            "sets": list(task.sets),
            "seed": task.seed,
        }
        write_json_atomic(folder / RESULT_NAME, done)
    if task.keep == "summary":
        prune(folder)
    result.update(status="done", error="", data_bytes=done.get("data_bytes"))
    return result


_EXPECTED: tuple[type[BaseException], ...] = (
    VariantFolderError,  # the errors whose message is the whole story
    PreflightError,
    InstrumentError,
    RecipeError,
    FaultSpecError,
    RunFolderError,
)
