"""The checks a multi-site run makes across its sites before a site's session starts.

Why apart from each site's own preflight: ``limits.max_hours`` holds for the whole run, and a
site far away on the stage must be refused before the first one moves. A site's session gets
this as its placement's extra check (:class:`~fibsims.service.placement.Placement`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import compile_plan
from fibsims.engine.preflight import round_up_hours
from fibsims.instrument.interfaces import Instrument
from fibsims.recipe import Recipe

if TYPE_CHECKING:
    from fibsims.service.session import Session


def whole_run_check(recipe: Recipe, index: int) -> Callable[[Session, Instrument], list[str]]:
    """``limits.max_hours`` holds for the whole run: the time spent, this site's rest and
    every later site's estimate must fit (each site's own preflight checks only itself)."""

    def check(session: Session, instrument: Instrument) -> list[str]:
        sites = recipe.sites or []
        caps = instrument.capabilities
        beyond = [
            problem
            for i, site in enumerate(sites[index:], start=index)
            for problem in (
                caps.stage_problems(
                    f"sites.{i}.stage", site.stage.x_um, site.stage.y_um, site.stage.z_um
                )
                if caps
                else []
            )
        ]
        if beyond:  # before the first site moves, not when the far one's turn comes
            return beyond
        later = sites[index + 1 :]
        if not later:
            return []  # the site's own preflight covers the rest of the run
        costs = instrument.costs
        spent_s = session.start_time_s + session.uncounted_s
        own_s = estimate_plan(session.plan, costs, session.first_slice, session.truth).total_s
        rest = [
            (s.name, estimate_plan(compile_plan(recipe.at_site(s)), costs, 0, session.truth))
            for s in later
        ]
        total_h = (spent_s + own_s + sum(e.total_s for _, e in rest)) / 3600
        limit_h = recipe.limits.max_hours if session.max_hours is None else session.max_hours
        if total_h <= limit_h:
            return []
        floor = "at least " if any(e.lower_bound for _, e in rest) else ""
        parts = ", ".join(
            [
                *([f"{spent_s / 3600:.3g} h done"] if spent_s else []),
                f"site {sites[index].name!r} {own_s / 3600:.3g} h",
                *(f"site {name!r} {e.total_s / 3600:.3g} h" for name, e in rest),
            ]
        )
        fix = (
            f"resume with --max-hours {round_up_hours(total_h)}"
            if spent_s
            else f"raise limits.max_hours to at least {round_up_hours(total_h)}, or plan fewer "
            "slices or sites"
        )
        return [
            f"limits.max_hours: the {len(sites)} sites need an estimated {floor}{total_h:.3g} h "
            f"of instrument time ({parts}), more than the limit of {limit_h:g} h, which holds "
            f"for the whole run; {fix}"
        ]

    return check
