"""Preflight: check a plan against the instrument before the first beam touches the sample.

Every problem is collected, not just the first, and each names the recipe field and the fix:
a recipe that asks for 12 nA on a column whose ladder has 4 and 15 nA fails here, in seconds,
not at slice 1 after an hour of set-up; a recipe that needs 30 h under ``max_hours: 24`` fails
here too, not at slice 300 (the estimate comes from the backend's cost model,
:mod:`fibsims.engine.estimate`).
"""

from __future__ import annotations

from dataclasses import replace

from fibsims.engine.capability_checks import capability_problems
from fibsims.engine.costs import costs_floor
from fibsims.engine.estimate import Estimate, estimate_plan
from fibsims.engine.field_checks import field_warnings
from fibsims.engine.plan import Plan, located_steps
from fibsims.engine.steps.imaging import scan_request
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import StagePosition
from fibsims.recipe import SEImageStep, SimsRasterStep

MAX_FRAME_S = 600.0
"""A pause or an abort waits for the running frame (acquisitions are split between frames),
so one frame may take at most this long."""


IMAGE_EROSION_FRACTION = 0.1
"""An SE image may erode up to a tenth of a slice before preflight warns: beyond it the
imaging beam removes a visible share of the slice (and amorphises the face) before the raster."""
TILT_TOLERANCE_DEG = 1e-6  # a stage at the recipe's tilt is not moved again (resume)


class PreflightError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("preflight failed:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


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
    problems = _species_problems(plan, instrument) + capability_problems(recipe, instrument)
    estimate = estimate_plan(
        plan, instrument.costs, first_slice, truth, planned_stage(plan, instrument)
    )
    problems += _frame_problems(plan, estimate)
    limit_h = recipe.limits.max_hours if max_hours is None else max_hours
    needed_h = (start_s + estimate.total_s) / 3600.0
    if needed_h > limit_h:
        done = f"{start_s / 3600:.3g} h done, then " if start_s else ""
        floor = "at least " if estimate.lower_bound else ""
        fix = (
            f"resume with --max-hours {round_up_hours(needed_h)}"
            if first_slice
            else f"raise limits.max_hours to at least {round_up_hours(needed_h)} or plan "
            "fewer slices"
        )
        problems.append(
            f"limits.max_hours: the run needs an estimated {floor}{needed_h:.3g} h of "
            f"instrument time ({done}{estimate.slices} slices at {estimate.per_slice_s:.4g} s "
            f"each), more than the limit of {limit_h:g} h; {fix}"
        )
    return problems


def round_up_hours(hours: float) -> str:
    """A limit to suggest above ``hours``: the next whole hour, or ten above 100 h."""
    return f"{int(hours) + 1}" if hours < 100 else f"{int(hours / 10 + 1) * 10}"


def _frame_problems(plan: Plan, estimate: Estimate) -> list[str]:
    """A frame longer than :data:`MAX_FRAME_S` could not be paused or aborted in time."""
    problems = []
    for kind, seconds in estimate.longest_frame_s.items():
        if seconds <= MAX_FRAME_S:
            continue
        where = next((at for at, s in located_steps(plan.recipe) if s.kind == kind), kind)
        problems.append(
            f"{where}: one frame takes {seconds:.4g} s; a pause or an abort waits for the "
            f"running frame, so a frame may take at most {MAX_FRAME_S:g} s: lower the "
            "resolution or dwell_us (and raise frames)"
        )
    return problems


def planned_stage(plan: Plan, instrument: Instrument) -> StagePosition:
    """Where the run will hold the stage: where it is, at the recipe's tilt. Read, not moved:
    the step times depend on the tilt, and preflight answers before anything moves."""
    return stage_at_recipe_tilt(plan, instrument.stage.position())


def stage_at_recipe_tilt(plan: Plan, position: StagePosition) -> StagePosition:
    """``position`` at the recipe's tilt (:func:`planned_stage` of a stage standing there)."""
    return replace(position, tilt_deg=plan.recipe.instrument.stage_tilt_deg)


def warnings(plan: Plan, instrument: Instrument) -> list[str]:
    """What will not stop the run but makes its data less than it seems, with the numbers:
    scans that erode the face (:func:`erosion_warnings`) and fields that do not match the face
    (:func:`~fibsims.engine.field_checks.field_warnings`)."""
    return erosion_warnings(plan, instrument) + field_warnings(plan.recipe)


def erosion_warnings(plan: Plan, instrument: Instrument) -> list[str]:
    """A SIMS raster that sputters more than a slice makes the slices thicker than planned; an
    SE image that erodes more than :data:`IMAGE_EROSION_FRACTION` of a slice damages the face
    the raster then maps (the backend's sputter rate at the recipe's tilt)."""
    found = []
    costs = costs_floor(instrument.costs)
    at = planned_stage(plan, instrument)
    slice_nm = plan.recipe.volume.slice_thickness_nm
    face_width = plan.recipe.volume.face_width_um
    for where, step in located_steps(plan.recipe):
        if not isinstance(step, SimsRasterStep | SEImageStep):
            continue
        depth_um = costs.sputter_depth_um(scan_request(step, face_width), step.current_na, at)
        if depth_um is None:
            continue
        depth_nm = depth_um * 1000
        if isinstance(step, SimsRasterStep) and depth_nm > slice_nm:
            found.append(
                f"{where} sputters about {depth_nm:.3g} nm per slice, more than the "
                f"{slice_nm:g} nm slice: the face runs ahead of the cuts, so each slice comes "
                f"out about {depth_nm:.3g} nm thick; lower current_pa, dwell_us or frames"
            )
        elif isinstance(step, SEImageStep) and depth_nm > IMAGE_EROSION_FRACTION * slice_nm:
            found.append(
                f"{where} erodes about {depth_nm:.3g} nm of the face per image at "
                f"{step.current_pa:g} pA ({depth_nm / slice_nm:.0%} of the {slice_nm:g} nm "
                "slice): the imaging beam damages and thins the face the SIMS raster maps; "
                "lower current_pa, dwell_us or frames"
            )
    return found


def _species_problems(plan: Plan, instrument: Instrument) -> list[str]:
    wanted, species = plan.recipe.instrument.ion_species, instrument.column.ion_species
    if species == wanted:
        return []
    return [
        f"instrument.ion_species: the recipe asks for {wanted} but the column's source is "
        f"{species}; change the recipe or the instrument"
    ]


def run_preflight(plan: Plan, instrument: Instrument, **where: float | bool) -> None:
    """Check (``where`` as for :func:`check`) before anything moves, then tilt the stage as
    the recipe says and bring the column to the recipe's voltage; raise on any problem."""
    problems = check(plan, instrument, **where)  # type: ignore[arg-type]
    if problems:
        raise PreflightError(problems)
    tilt_problems = apply_stage_tilt(plan, instrument)
    if tilt_problems:
        raise PreflightError(tilt_problems)
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
