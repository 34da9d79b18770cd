"""Preflight: check a plan against the instrument before the first beam touches the sample.

Every problem is collected, not just the first, and each names the recipe field and the fix:
a recipe that asks for 12 nA on a column whose ladder has 4 and 15 nA fails here, in seconds,
not at slice 1 after an hour of set-up; a recipe that needs 30 h under ``max_hours: 24`` fails
here too, not at slice 300 (the estimate comes from the backend's cost model,
:mod:`fibsims.engine.estimate`).
"""

from __future__ import annotations

from dataclasses import replace

from fibsims.engine.costs import costs_floor
from fibsims.engine.estimate import Estimate, estimate_plan
from fibsims.engine.plan import Plan
from fibsims.engine.steps.imaging import raster_request
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.recipe import SimsRasterStep

CURRENT_TOLERANCE = 0.10  # a recipe current may sit within 10 % of a ladder rung
MAX_FRAME_S = 600.0
"""A pause or an abort waits for the running frame (acquisitions are split between frames),
so one frame may take at most this long."""


TILT_TOLERANCE_DEG = 1e-6  # a stage at the recipe's tilt is not moved again (resume)


class PreflightError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("preflight failed:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def _nearest(ladder: list[float], current_na: float) -> float:
    return min(ladder, key=lambda rung: abs(rung - current_na))


def check(
    plan: Plan,
    instrument: Instrument,
    *,
    first_slice: int = 0,
    start_s: float = 0.0,
    max_hours: float | None = None,
    truth: bool = False,
) -> list[str]:
    """Problems that make ``plan`` impossible on ``instrument`` (empty when it can run).

    ``first_slice`` and ``start_s`` say where a resumed run starts (slice, instrument time);
    ``max_hours`` overrides the recipe's limit (``resume --max-hours``)."""
    recipe = plan.recipe
    problems = _ladder_problems(plan, instrument)
    estimate = estimate_plan(plan, instrument.costs, first_slice, truth)
    problems += _frame_problems(plan, estimate)
    limit_h = recipe.limits.max_hours if max_hours is None else max_hours
    needed_h = (start_s + estimate.total_s) / 3600.0
    if needed_h > limit_h:
        done = f"{start_s / 3600:.3g} h done, then " if start_s else ""
        floor = "at least " if estimate.lower_bound else ""
        fix = (
            f"resume with --max-hours {_round_up(needed_h)}"
            if first_slice
            else f"raise limits.max_hours to at least {_round_up(needed_h)} or plan fewer slices"
        )
        problems.append(
            f"limits.max_hours: the run needs an estimated {floor}{needed_h:.3g} h of "
            f"instrument time ({done}{estimate.slices} slices at {estimate.per_slice_s:.4g} s "
            f"each), more than the limit of {limit_h:g} h; {fix}"
        )
    return problems


def _round_up(hours: float) -> str:
    return f"{int(hours) + 1}" if hours < 100 else f"{int(hours / 10 + 1) * 10}"


def _frame_problems(plan: Plan, estimate: Estimate) -> list[str]:
    """A frame longer than :data:`MAX_FRAME_S` could not be paused or aborted in time."""
    problems = []
    for kind, seconds in estimate.longest_frame_s.items():
        if seconds <= MAX_FRAME_S:
            continue
        position = next((i for i, s in enumerate(plan.recipe.slice) if s.kind == kind), None)
        where = f"slice.{position}.{kind}" if position is not None else kind
        problems.append(
            f"{where}: one frame takes {seconds:.4g} s; a pause or an abort waits for the "
            f"running frame, so a frame may take at most {MAX_FRAME_S:g} s: lower the "
            "resolution or dwell_us (and raise frames)"
        )
    return problems


def warnings(plan: Plan, instrument: Instrument) -> list[str]:
    """What will not stop the run but makes its data less than it seems, with the numbers."""
    found = []
    costs = costs_floor(instrument.costs)
    slice_nm = plan.recipe.volume.slice_thickness_nm
    face_width = plan.recipe.volume.face_width_um
    for position, step in enumerate(plan.recipe.slice):
        if not isinstance(step, SimsRasterStep):
            continue
        depth_um = costs.sputter_depth_um(raster_request(step, face_width).scan, step.current_na)
        if depth_um is not None and depth_um * 1000 > slice_nm:
            found.append(
                f"slice.{position}.sims_raster sputters about {depth_um * 1000:.3g} nm per slice, "
                f"more than the {slice_nm:g} nm slice: the face runs ahead of the cuts, so each "
                f"slice comes out about {depth_um * 1000:.3g} nm thick; lower current_pa, "
                "dwell_us or frames"
            )
    return found


def _ladder_problems(plan: Plan, instrument: Instrument) -> list[str]:
    recipe = plan.recipe
    problems: list[str] = []
    species = instrument.column.ion_species
    if species != recipe.instrument.ion_species:
        problems.append(
            f"instrument.ion_species: the recipe asks for {recipe.instrument.ion_species} but "
            f"the column's source is {species}; change the recipe or the instrument"
        )
    ladder = sorted(instrument.column.current_ladder_na())
    for position, step in enumerate(recipe.slice):
        current = step.current_na
        rung = _nearest(ladder, current)
        if abs(rung - current) > CURRENT_TOLERANCE * current:
            below = [r for r in ladder if r < current][-1:]
            above = [r for r in ladder if r > current][:1]
            options = ", ".join(f"{r:g} nA" for r in below + above)
            problems.append(
                f"slice.{position}.{step.kind}: {current:g} nA is not on the column's current "
                f"ladder; nearest rungs: {options}"
            )
    return problems


def run_preflight(plan: Plan, instrument: Instrument, **where: float | bool) -> None:
    """Tilt the stage as the recipe says (the step times depend on the incidence), check
    (``where`` as for :func:`check`), then bring the column to the recipe's voltage; raise on
    any problem."""
    tilt_problems = apply_stage_tilt(plan, instrument)
    if tilt_problems:
        raise PreflightError(tilt_problems)
    problems = check(plan, instrument, **where)  # type: ignore[arg-type]
    if problems:
        raise PreflightError(problems)
    instrument.column.blank()
    instrument.column.set_voltage_kv(plan.recipe.instrument.voltage_kv)


def apply_stage_tilt(plan: Plan, instrument: Instrument) -> list[str]:
    """Move the stage to the recipe's tilt (keeping x, y, z and rotation) unless it is there."""
    tilt_deg = plan.recipe.instrument.stage_tilt_deg
    here = instrument.stage.position()
    if abs(here.tilt_deg - tilt_deg) < TILT_TOLERANCE_DEG:
        return []
    try:
        instrument.stage.move_to(replace(here, tilt_deg=tilt_deg))
    except InstrumentError as error:
        return [f"instrument.stage_tilt_deg: the stage cannot tilt to {tilt_deg:g} deg: {error}"]
    return []
