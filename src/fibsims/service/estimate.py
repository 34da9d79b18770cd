"""``fibsims estimate``: what a recipe will cost before the instrument is booked.

Why through the backend: the estimate is the engine's dry run of the recipe's own messages
against the backend's declared timing models (:mod:`fibsims.engine.estimate`), the same ones the
run's preflight checks ``limits.max_hours`` with; the twin answers them from its physics without
synthesising an image. The instrument is opened (the twin in-process by default) only to read
its cost model and to set the recipe's stage tilt, on which pattern times depend; the beam is
never unblanked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import compile_plan
from fibsims.engine.preflight import apply_stage_tilt
from fibsims.instrument import InstrumentError
from fibsims.instrument.registry import InstrumentOptions, open_instrument
from fibsims.recipe import RecipeError, load_recipe, parse_overrides
from fibsims.service.runs import default_seed


class EstimateError(Exception):
    """The recipe or the instrument cannot be estimated; the message says why and the fix."""


@dataclass(frozen=True)
class EstimateRequest:
    recipe: Path
    instrument: str = "sim"
    seed: int | None = None
    truth: bool = False
    overrides: tuple[str, ...] = ()  # --set path=value, applied before validation


def estimate_recipe(request: EstimateRequest) -> dict[str, Any]:
    """The estimate of ``request.recipe`` as a JSON-able dict (``simulated_seconds`` as in
    ``summary.json``); raise :class:`EstimateError` naming the problem."""
    try:
        recipe = load_recipe(request.recipe, parse_overrides(request.overrides))
    except RecipeError as error:
        raise EstimateError(str(error)) from None
    plan = compile_plan(recipe)
    seed = default_seed(recipe) if request.seed is None else request.seed
    options = InstrumentOptions(seed=seed, sample=recipe.sample.model_dump(mode="json"))
    try:
        instrument = open_instrument(request.instrument, options)
    except InstrumentError as error:
        raise EstimateError(f"cannot open the instrument {request.instrument!r}: {error}") from None
    try:
        problems = apply_stage_tilt(plan, instrument)
        if problems:
            raise EstimateError("; ".join(problems))
        estimate = estimate_plan(plan, instrument.costs, 0, request.truth)
    finally:
        instrument.close()
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
    }


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
    return lines
