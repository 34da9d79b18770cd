"""One-line summaries of a recipe, for listings and logs."""

from __future__ import annotations

from fibsims.recipe.models import Recipe, Schedule
from fibsims.recipe.steps import StepBase


def describe(recipe: Recipe) -> str:
    """E.g. ``nmc811-li-map: 400 slices x 25 nm over 20 x 15 um, 4 steps per slice (mill,
    rocking_polish, se_image, sims_raster), autofocus every 10``; a named step reads
    ``sims_raster li_map``."""
    volume = recipe.volume
    count = len(recipe.slice)
    steps = f"{count} step{'s' if count != 1 else ''} per slice"
    parts = [
        f"{recipe.recipe}: {volume.slices} slice{'s' if volume.slices != 1 else ''} x "
        f"{volume.slice_thickness_nm:g} nm over {volume.face_width_um:g} x "
        f"{volume.face_height_um:g} um",
        f"{steps} ({', '.join(_step(step) for step in recipe.slice)})",
        *(_schedule(schedule) for schedule in recipe.every),
    ]
    return ", ".join(parts)


def _step(step: StepBase) -> str:
    return step.kind if step.name is None else f"{step.kind} {step.name}"


def _schedule(schedule: Schedule) -> str:
    what = schedule.kind if schedule.step is None else _step(schedule.step)
    text = f"{what} every {schedule.slices}"
    return f"{text} from slice {schedule.offset}" if schedule.offset else text
