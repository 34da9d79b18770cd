"""Every variant validated and preflighted before anything is submitted.

Validation is the recipe loader's (every field, with the variant's ``--set`` applied);
preflight is ``fibsims run --dry-run``'s (:func:`fibsims.service.estimate.preflight_recipe`:
the instrument's current ladder and scan generators, ``limits.max_hours``, the frames, the
disk), run once per distinct recipe (the seeds of one grid point share it: a seed changes the
noise, not what the instrument can do). Every problem of every variant is reported at once,
named by the variant and the field, so a sweep is fixed in one edit, not one variant at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fibsims.recipe import Recipe, RecipeError, parse_overrides, parse_recipe
from fibsims.service.estimate import EstimateError, EstimateRequest, preflight_recipe
from fibsims.service.sweep.plan import Variant

MAX_PROBLEMS_SHOWN = 40


@dataclass
class Checked:
    """The variants' recipes, their estimates and every problem (``variant: problem``)."""

    recipes: dict[str, Recipe] = field(default_factory=dict)
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def instrument_hours(self) -> float:
        return sum(e.get("simulated_seconds", 0.0) for e in self.estimates.values()) / 3600


class SweepInvalid(Exception):
    """Some variants cannot run; nothing was submitted."""

    def __init__(self, problems: Sequence[str], variants: int, bad: int) -> None:
        shown = list(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - len(shown)
        tail = [f"... and {more} more"] if more > 0 else []
        super().__init__(
            f"{bad} of {variants} variants cannot run; nothing was started:\n  "
            + "\n  ".join([*shown, *tail])
        )


def check_variants(
    text: str,
    source: Path,
    variants: Sequence[Variant],
    instrument: str = "sim",
    tick: Callable[[], None] = lambda: None,
) -> Checked:
    """Validate every variant, then preflight each distinct valid recipe (``tick`` after
    each); raise :class:`SweepInvalid` listing every problem of every variant."""
    checked = Checked()
    bad: set[str] = set()
    for variant in variants:
        try:
            checked.recipes[variant.id] = parse_recipe(
                text, str(source), parse_overrides(variant.sets)
            )
        except RecipeError as error:
            bad.add(variant.id)
            checked.problems += [f"{variant.id}: {problem}" for problem in error.problems]
    done: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}
    for variant in variants:
        recipe = checked.recipes.get(variant.id)
        if recipe is None:
            continue
        if recipe.sites is not None:
            bad.add(variant.id)
            checked.problems.append(
                f"{variant.id}: the recipe lists sites:; a sweep runs single-site recipes "
                "(sweep one site's recipe)"
            )
            continue
        key = "\n".join(variant.sets)
        if key not in done:
            done[key] = _preflight(source, variant, instrument, recipe)
            tick()
        estimate, problems, warnings = done[key]
        checked.estimates[variant.id] = estimate
        if problems:
            bad.add(variant.id)
        checked.problems += [f"{variant.id}: {p}" for p in problems]
        checked.warnings += [f"{variant.id}: {w}" for w in warnings]
    if checked.problems:
        raise SweepInvalid(checked.problems, len(variants), len(bad))
    return checked


def _preflight(
    source: Path, variant: Variant, instrument: str, recipe: Recipe
) -> tuple[dict[str, Any], list[str], list[str]]:
    request = EstimateRequest(
        recipe=source,
        instrument=instrument,
        seed=variant.seed,
        truth=True,
        out=None,  # the folder exists on a rerun; the sweep checks its disk as a whole
        overrides=variant.sets,
    )
    try:
        found = preflight_recipe(request, recipe)
    except EstimateError as error:
        return {}, [str(error)], []
    return found.estimate, found.problems, found.warnings
