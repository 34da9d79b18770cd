"""``fibsims estimate``: what a recipe will cost before the instrument is booked.

Why through the backend: the estimate is the engine's dry run of the recipe's own messages
against the backend's declared timing models (:mod:`fibsims.engine.estimate`), the same ones the
run's preflight checks ``limits.max_hours`` with; the twin answers them from its physics without
synthesising an image. ``fibsims estimate`` asks the backend's cost view
(:func:`~fibsims.instrument.registry.open_cost_view`: the twin's cost model and capabilities
without its phantom and image physics) and opens the instrument only when the backend offers
none (an address, a vendor backend); preflight opens it, for the checks that read its devices.
Either way nothing moves (the times are asked at the recipe's stage tilt) and the beam is never
unblanked.

The run service, the folder checks and the disk check are imported by the functions that use
them: ``fibsims estimate`` must not pay for h5py and ZeroMQ (issue 13: its start-up time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fibsims.engine import preflight
from fibsims.engine.capability_checks import capability_problems, declared_problems
from fibsims.engine.estimate import combined, estimate_plan
from fibsims.engine.plan import compile_plan
from fibsims.instrument import CostModel, Instrument, InstrumentError, StagePosition
from fibsims.instrument.registry import InstrumentOptions, open_cost_view, open_instrument
from fibsims.recipe import Recipe, RecipeError, load_recipe, parse_overrides
from fibsims.service.seeds import default_seed


class EstimateError(Exception):
    """The recipe or the instrument cannot be estimated; the message says why and the fix."""


@dataclass(frozen=True)
class EstimateRequest:
    recipe: Path
    instrument: str = "sim"
    seed: int | None = None
    truth: bool = False
    out: Path | None = None
    """Where the run folder would go (the disk check); None: under ./runs."""
    overrides: tuple[str, ...] = ()  # --set path=value, applied before validation
    as_run: bool = False
    """The preflight of ``run --dry-run``: also what ``fibsims run`` alone refuses."""


@dataclass(frozen=True)
class RecipePreflight:
    """Everything preflight finds before anything moves, and the estimate it judged by."""

    estimate: dict[str, Any]
    problems: list[str]
    """What makes the run impossible (the run would be refused)."""
    warnings: list[str]
    """What will not stop the run but makes its data less than it seems."""

    @property
    def ok(self) -> bool:
        return not self.problems


def estimate_recipe(request: EstimateRequest) -> dict[str, Any]:
    """The estimate of ``request.recipe`` as a JSON-able dict (``simulated_seconds`` as in
    ``summary.json``), with ``problems``: what the instrument cannot do as the recipe says (an
    estimate of it is a guess); raise :class:`EstimateError` naming the problem."""
    recipe = _load(request)
    try:
        view = open_cost_view(request.instrument, _options(request, recipe))
    except InstrumentError as error:
        raise EstimateError(f"cannot open the instrument {request.instrument!r}: {error}") from None
    if view is not None:
        estimate = _estimate(view.costs, view.stage, request, recipe)
        problems = [
            (where, declared_problems(part, view.capabilities)) for where, part in _parts(recipe)
        ]
    else:
        with _opened(request, recipe) as instrument:
            estimate = _estimate(instrument.costs, instrument.stage.position(), request, recipe)
            problems = [
                (where, capability_problems(part, instrument)) for where, part in _parts(recipe)
            ]
    estimate["problems"] = [f"{where}{problem}" for where, found in problems for problem in found]
    return estimate


def preflight_recipe(request: EstimateRequest, recipe: Recipe | None = None) -> RecipePreflight:
    """The run's preflight without the run: the instrument's offer, the time limit, the
    frames, the disk, and the warnings; nothing moves and the beam stays blanked."""
    from fibsims.service.disk_check import disk_problem
    from fibsims.service.folder import RunFolderError
    from fibsims.service.outdir import check_out_folder
    from fibsims.service.sites import overrides_refused

    recipe = recipe if recipe is not None else _load(request)
    problems: list[str] = []
    found: list[str] = []
    if request.as_run and request.overrides and recipe.sites is not None:
        problems.append(overrides_refused(request.recipe))
    if request.out is not None:  # the folder the run would refuse, it refuses here too
        try:
            check_out_folder(request.out)
        except RunFolderError as error:
            problems.append(str(error))
    with _opened(request, recipe) as instrument:
        estimate = _estimate(instrument.costs, instrument.stage.position(), request, recipe)
        before_s = 0.0  # a later site starts where the earlier ones ended (the whole-run limit)
        for where, part in _parts(recipe):
            plan = compile_plan(part)
            checked = preflight.check(plan, instrument, truth=request.truth, start_s=before_s)
            problems += [f"{where}{p}" for p in checked]
            found += [f"{where}{w}" for w in preflight.warnings(plan, instrument)]
            stage = preflight.planned_stage(plan, instrument)
            before_s += estimate_plan(plan, instrument.costs, 0, request.truth, stage).total_s
            if recipe.suspenders.free_disk.enabled:
                folder = request.out if request.out is not None else Path("runs")
                disk = disk_problem(plan, instrument.costs, folder, truth=request.truth)
                problems += [f"{where}{disk}"] if disk else []
        caps = instrument.capabilities
        for i, site in enumerate(recipe.sites or []):
            if caps is not None:
                stage = site.stage
                problems += caps.stage_problems(
                    f"sites.{i}.stage", stage.x_um, stage.y_um, stage.z_um
                )
        if request.truth and instrument.truth is None:
            problems.append(f"--truth: the {request.instrument!r} instrument has no ground truth")
    return RecipePreflight(estimate, problems, found)


def _parts(recipe: Recipe) -> list[tuple[str, Recipe]]:
    """The single-site recipes a recipe runs, each with the prefix its problems take: the
    recipe itself, or each of its sites (``sites.1 (b): ``)."""
    if recipe.sites is None:
        return [("", recipe)]
    return [
        (f"sites.{i} ({site.name}): ", recipe.at_site(site)) for i, site in enumerate(recipe.sites)
    ]


def _load(request: EstimateRequest) -> Recipe:
    try:
        return load_recipe(request.recipe, parse_overrides(request.overrides))
    except RecipeError as error:
        raise EstimateError(str(error)) from None


def _options(request: EstimateRequest, recipe: Recipe) -> InstrumentOptions:
    """What the backend is told, as the run would tell it (seed and sample)."""
    seed = default_seed(recipe) if request.seed is None else request.seed
    return InstrumentOptions(seed=seed, sample=recipe.sample.model_dump(mode="json"))


@contextlib.contextmanager
def _opened(request: EstimateRequest, recipe: Recipe) -> Iterator[Instrument]:
    try:
        instrument = open_instrument(request.instrument, _options(request, recipe))
    except InstrumentError as error:
        raise EstimateError(f"cannot open the instrument {request.instrument!r}: {error}") from None
    try:
        yield instrument
    finally:
        instrument.close()


def _estimate(
    costs: CostModel | None, stage: StagePosition, request: EstimateRequest, recipe: Recipe
) -> dict[str, Any]:
    """The recipe's estimate by ``costs`` with the stage standing at ``stage`` (held at each
    part's tilt); a multi-site recipe's sums its sites' (moving the stage between them is not
    counted: seconds against hours)."""
    per_site = []
    for _, part in _parts(recipe):
        plan = compile_plan(part)
        at = preflight.stage_at_recipe_tilt(plan, stage)
        per_site.append(estimate_plan(plan, costs, 0, request.truth, at))
    estimate = combined(per_site)
    ends = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(
        seconds=round(estimate.total_s)
    )
    limit_h = recipe.limits.max_hours
    return {
        "recipe": recipe.recipe,
        "instrument": request.instrument,
        "slices": estimate.slices,
        "simulated_seconds": round(estimate.total_s, 3),
        "simulated_hours": round(estimate.total_h, 4),
        "per_slice_seconds": round(estimate.per_slice_s, 3),
        "step_seconds": {kind: round(s, 3) for kind, s in estimate.by_kind_s.items()},
        "ion_dose_nc": round(estimate.ion_dose_nc, 3),
        "data_bytes": estimate.data_bytes,
        "lower_bound": estimate.lower_bound,
        "max_hours": limit_h,
        "within_max_hours": estimate.total_h <= limit_h,
        "ends_utc_if_started_now": ends.isoformat(),
        **(
            {
                "sites": [
                    {
                        "name": site.name,
                        "slices": e.slices,
                        "simulated_seconds": round(e.total_s, 3),
                    }
                    for site, e in zip(recipe.sites, per_site, strict=True)
                ]
            }
            if recipe.sites is not None
            else {}
        ),
    }


def estimate_line(result: dict[str, Any]) -> str:
    """The estimate in one line (``validate`` prints it under each recipe)."""
    floor = "at least " if result["lower_bound"] else ""
    verdict = "within" if result["within_max_hours"] else "MORE than"
    return (
        f"estimate: {floor}{result['simulated_hours']:.2f} h for {result['slices']} slices, "
        f"{result['data_bytes'] / 2**30:.2f} GiB, {verdict} limits.max_hours "
        f"({result['max_hours']:g} h)"
    )


def describe_estimate(result: dict[str, Any]) -> list[str]:
    """The estimate as lines for a terminal."""
    floor = "at least " if result["lower_bound"] else ""
    lines = [
        f"{result['recipe']}: {floor}{result['simulated_hours']:.2f} h of instrument time for "
        f"{result['slices']} slices ({result['per_slice_seconds']:.1f} s per slice), "
        f"{result['data_bytes'] / 2**30:.2f} GiB of data, {result['ion_dose_nc'] / 1e3:.3g} uC "
        "of ions",
    ]
    total = sum(result["step_seconds"].values()) or 1.0
    for kind, seconds in sorted(result["step_seconds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {kind:<16} {seconds / 3600:8.2f} h  {100 * seconds / total:5.1f} %")
    verdict = "within" if result["within_max_hours"] else "MORE than"
    lines.append(f"  {verdict} limits.max_hours ({result['max_hours']:g} h)")
    lines.append(f"  ends {result['ends_utc_if_started_now']} if started now")
    for problem in result.get("problems", ()):
        lines.append(f"  problem: {problem}")
    return lines
