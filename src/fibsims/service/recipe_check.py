"""``fibsims check``: a lab's recipe CI on the twin, one recipe after another.

Why: a lab keeps its recipes in a repository and wants a change to fail review, not the next
instrument booking. Each recipe goes through what a run would do before and during its first
slices: the language (``validate``), the instrument's offer and limits (preflight, against the
backend the lab names, the twin by default), the estimate, and a scaled-down pass on the twin
(the first few slices, everything else as written: the same images, rasters, schedules and
fiducial), which must complete. Every phase's outcome is kept so a report (the terminal, or
JUnit XML for CI servers) shows all of them, not just the first failure.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fibsims.instrument import InstrumentError
from fibsims.recipe import Recipe, RecipeError, load_recipe
from fibsims.service import sites
from fibsims.service.estimate import EstimateError, EstimateRequest, preflight_recipe
from fibsims.service.outdir import nearest_existing
from fibsims.service.runs import RunFolderError, RunRequest, start_run
from fibsims.service.session import RunReport
from fibsims.service.sites import SitesReport

PHASES = ("validate", "preflight", "estimate", "twin_pass")
TWIN = "sim"


@dataclass
class Phase:
    """One phase of one recipe's check: passed, failed (with the reasons) or skipped."""

    name: str
    status: str = "passed"
    """``passed``, ``failed`` or ``skipped`` (an earlier phase failed)."""
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RecipeCheck:
    path: Path
    phases: list[Phase]
    warnings: list[str] = field(default_factory=list)
    estimate: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(p.status != "failed" for p in self.phases)


@dataclass(frozen=True)
class CheckRequest:
    recipes: tuple[Path, ...]
    instrument: str = TWIN
    """Backend to preflight and estimate against; the scaled-down pass is always the twin's."""
    slices: int = 3
    """Slices of the scaled-down pass (fewer when the recipe has fewer)."""
    strict: bool = False
    """Warnings fail the preflight phase too."""
    keep: Path | None = None
    """Keep each pass's run folder under this folder (else they are deleted)."""


class CheckInputError(ValueError):
    """A flag of ``check`` names a path that cannot be used; the message says which and why."""


def check_outputs(junit: Path | None, keep: Path | None) -> None:
    """Refuse a ``--junit`` or ``--keep`` path that cannot be written, before any recipe is
    checked (not after minutes of twin passes)."""
    if junit is not None:
        if junit.is_dir():
            raise CheckInputError(
                f"--junit {junit} is a folder; give the report's file name, e.g. "
                f"{junit / 'fibsims-check.xml'}"
            )
        parent = junit.absolute().parent
        if not parent.exists():
            raise CheckInputError(
                f"--junit {junit}: the folder {parent} does not exist; create it first or give "
                "another path"
            )
        if not parent.is_dir():
            raise CheckInputError(
                f"--junit {junit}: {parent} is a file, not a folder; give another path"
            )
    if keep is not None:
        if keep.exists() and not keep.is_dir():
            raise CheckInputError(f"--keep {keep} is a file, not a folder; choose a folder path")
        base = nearest_existing(keep)
        if not base.is_dir():
            raise CheckInputError(
                f"--keep {keep} lies under {base}, which is a file; choose a folder path"
            )


def check_recipes(
    request: CheckRequest, on_done: Callable[[RecipeCheck], None] | None = None
) -> list[RecipeCheck]:
    """Check every recipe of ``request``; ``on_done`` hears each as soon as it is finished."""
    results = []
    for path in request.recipes:
        result = check_recipe(path, request)
        if on_done is not None:
            on_done(result)
        results.append(result)
    return results


def check_recipe(path: Path, request: CheckRequest) -> RecipeCheck:
    phases = {name: Phase(name) for name in PHASES}
    result = RecipeCheck(path, list(phases.values()))
    recipe = _phase(phases["validate"], lambda: load_recipe(path))
    if recipe is None:
        return _skip_rest(result, "validate")
    report = _phase(
        phases["preflight"],
        lambda: preflight_recipe(EstimateRequest(path, request.instrument), recipe),
    )
    if report is None:
        return _skip_rest(result, "preflight")
    result.estimate, result.warnings = report.estimate, report.warnings
    _judge_preflight(phases["preflight"], report.problems, report.warnings, request.strict)
    _judge_estimate(phases["estimate"], report.estimate)
    if phases["preflight"].status == "failed":
        phases["twin_pass"].status = "skipped"
        phases["twin_pass"].messages = ["preflight failed"]
        return result
    twin_pass = phases["twin_pass"]
    done = _phase(twin_pass, lambda: _twin_pass(path, recipe, request))
    if done is not None:
        twin_pass.messages = [done]
    return result


def _phase(phase: Phase, work: Callable[[], Any]) -> Any:
    """Run ``work`` as ``phase``; an expected failure marks the phase failed, returns None."""
    started = time.perf_counter()
    try:
        return work()
    except RecipeError as error:
        phase.status, phase.messages = "failed", [str(p) for p in error.problems]
    except (EstimateError, InstrumentError, RunFolderError, TwinPassFailed) as error:
        phase.status, phase.messages = "failed", [str(error)]
    finally:
        phase.seconds = time.perf_counter() - started
    return None


def _skip_rest(result: RecipeCheck, failed: str) -> RecipeCheck:
    after = False
    for phase in result.phases:
        if after:
            phase.status, phase.messages = "skipped", [f"{failed} failed"]
        after = after or phase.name == failed
    return result


def _judge_preflight(phase: Phase, problems: list[str], warnings: list[str], strict: bool) -> None:
    phase.messages = [*problems, *(f"warning: {w}" for w in warnings)]
    if problems or (strict and warnings):
        phase.status = "failed"


def _judge_estimate(phase: Phase, estimate: dict[str, Any]) -> None:
    phase.messages = [
        f"{estimate['simulated_hours']:.2f} h for {estimate['slices']} slices, "
        f"{estimate['data_bytes'] / 2**30:.2f} GiB"
    ]
    if not estimate["within_max_hours"]:
        phase.status = "failed"
        phase.messages.append(
            f"the estimate exceeds limits.max_hours ({estimate['max_hours']:g} h)"
        )


class TwinPassFailed(Exception):
    """The scaled-down pass on the twin did not complete."""


def _twin_pass(path: Path, recipe: Recipe, request: CheckRequest) -> str:
    """Run the first ``request.slices`` slices of ``recipe`` on the twin in a scratch folder;
    say how it went."""
    slices = min(request.slices, recipe.volume.slices)
    scaled = recipe.model_dump(mode="json", exclude_none=True)
    scaled["volume"]["slices"] = slices
    for site in scaled.get("sites", []):  # a site with its own volume is scaled down too
        if "volume" in site:
            site["volume"]["slices"] = min(request.slices, site["volume"]["slices"])
    scratch = Path(tempfile.mkdtemp(prefix="fibsims-check-"))
    try:
        scaled_path = scratch / path.name
        scaled_path.write_text(yaml.safe_dump(scaled, sort_keys=False))
        out = scratch / "run" if request.keep is None else _kept_folder(request.keep, path)
        run = RunRequest(scaled_path, out=out, instrument=TWIN, progress=False, tell=lambda _: None)
        if recipe.sites is not None:  # each site in its own folder, as `fibsims run` does
            return _sites_pass(sites.start(run), slices, out, request.keep is not None)
        report = start_run(run)
        if not report.ok:
            reason = report.summary.get("reason") or report.status
            raise TwinPassFailed(f"the {slices}-slice pass on the twin ended {reason}")
        kept = f", kept in {out}" if request.keep is not None else ""
        return (
            f"{slices} slices completed on the twin "
            f"({report.summary.get('simulated_seconds', 0):.0f} s of instrument time){kept}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sites_pass(report: RunReport | SitesReport, slices: int, out: Path, kept: bool) -> str:
    if not isinstance(report, SitesReport):  # cannot be: the recipe lists sites
        raise TwinPassFailed(f"the {slices}-slice pass on the twin did not run its sites")
    if not report.ok:
        raise TwinPassFailed(
            f"the {slices}-slice pass on the twin ended {report.reason or report.status}"
        )
    ended_s = max((r.summary.get("simulated_seconds", 0) for _, r in report.sites), default=0)
    return (
        f"up to {slices} slices completed at each of {len(report.sites)} sites on the twin "
        f"({ended_s:.0f} s of instrument time){f', kept in {out}' if kept else ''}"
    )


def _kept_folder(keep: Path, recipe_path: Path) -> Path:
    folder = keep / recipe_path.stem
    number = 1
    while folder.exists():
        number += 1
        folder = keep / f"{recipe_path.stem}-{number}"
    return folder
