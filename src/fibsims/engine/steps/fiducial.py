"""The fiducial's two loops: mill its marks, then follow them in every SE image.

``fiducial`` (the set-up step, first in slice 0) mills two lines at +angle and -angle to the
slicing axis (:mod:`fibsims.recipe.fiducial` says why two). After each SE image,
:func:`follow_fiducial` finds both marks (:mod:`fibsims.engine.tracking`): where a mark's
cross-section shows is ``x_ref + slope (z - z_ref) + e``, with ``e`` the drift since the
reference and ``z`` the face, so the two marks give both unknowns:

    dz = (r_left - r_right) / (slope_left - slope_right),   e = r_left - slope_left dz

with ``r`` each mark's residual shift from where the prediction put it.

- Drift: the estimate moves by ``e``; the beam shift follows it (scans and patterns stay on the
  sample: drift-corrected imaging and milling), and past ``max_beam_shift_um`` the stage takes
  the bulk. A beam shift the column refuses is handed to the stage too.
- Thickness: the face measured, ``z``, is recorded; the next cut aims ``thickness_gain`` of the
  error closer (integral control: the mean pitch holds the recipe's thickness).
- A poor match (score below ``min_score``) rescans, ``retries`` times; then a new reference is
  taken at the predicted position and checked on a fresh scan; if that fails too the run
  pauses (:class:`FiducialLost`). It never goes on silently.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

from fibsims.engine import messages as m
from fibsims.engine.context import FiducialTrack, RunContext, SliceContext
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.engine.tracking import Grid, MarkNotFound, crop, locate_bar, register
from fibsims.instrument.errors import HardwareFault, InstrumentError
from fibsims.instrument.types import Image, MillPattern, PatternKind, ScanRequest
from fibsims.recipe import Fiducial, Recipe

MARKS = {"left": -1.0, "right": +1.0}
"""Each mark's side: left at -spacing/2 turned by -angle, right at +spacing/2 by +angle, so
they part as the face advances and never cross."""
RATE_SMOOTHING = 0.2
"""Weight of the newest drift rate against the one before (a thermal drift changes slowly)."""
LENGTH_MARGIN_UM = 1.0
LEAD_UM = 0.1
"""How far behind the face the marks start, beyond the corner of their turned ends."""


class FiducialLost(HardwareFault):
    """The fiducial cannot be found or matched: the run pauses for a person to look."""


def length_um(fiducial: Fiducial, recipe: Recipe) -> float:
    return fiducial.length_um or recipe.volume.depth_um + LENGTH_MARGIN_UM


def mark_patterns(fiducial: Fiducial, recipe: Recipe, face_um: float) -> dict[str, MillPattern]:
    """Both lines, running from the face along the slicing axis (ahead of it: a feature).

    A pattern turns about its centre, so a line of length h and width w turned by the angle
    spans h cos(angle) + w sin(angle) along z, and near its ends the face cuts only a corner
    of it. So the line starts :data:`LEAD_UM` plus that corner behind the face (a narrow line
    reaching the face notches it, it does not cut it) and runs the fiducial's length ahead:
    the first face already shows a full section."""
    length = length_um(fiducial, recipe)
    angle = math.radians(fiducial.angle_deg)
    corner = fiducial.line_width_um * math.sin(angle)
    span = length + corner + LEAD_UM
    along = (span - corner) / math.cos(angle)
    middle = face_um - corner - LEAD_UM + span / 2
    return {
        name: MillPattern(
            kind=PatternKind.BOX,
            width_um=fiducial.line_width_um,
            height_um=along,
            depth_um=fiducial.depth_um,
            front_z_um=middle + along / 2,
            center_x_um=fiducial.center_x_um + side * fiducial.spacing_um / 2,
            center_y_um=fiducial.center_y_um,
            rotation_deg=side * fiducial.angle_deg,
        )
        for name, side in MARKS.items()
    }


def expected_x_um(pattern: MillPattern, z_um: float) -> float:
    """Where the face at ``z_um`` cuts a line (before any drift)."""
    middle = pattern.front_z_um - pattern.height_um / 2
    return pattern.center_x_um + (z_um - middle) * math.tan(math.radians(pattern.rotation_deg))


@step_kind("fiducial")
def fiducial(step: Fiducial, ctx: SliceContext) -> PlanFn:
    patterns = mark_patterns(step, ctx.recipe, face_um=0.0)
    current = yield from beam_on(step.current_na)
    dose = 0.0
    try:
        for pattern in patterns.values():
            dose += (yield m.Mill(pattern)).dose_nc
    finally:
        yield m.Blank()
    return StepOutput(current, {"dose_nc": dose, "marks": len(patterns)})


@dataclass(frozen=True)
class Fix:
    drift_um: tuple[float, float]
    """The drift found since the prediction (the residual ``e``)."""
    dz_um: float
    score: float


def _half(fiducial: Fiducial) -> tuple[float, float]:
    """The tracking window around a mark: tight, so the mark outweighs the changing face."""
    return (
        fiducial.line_width_um + fiducial.window_um,
        fiducial.depth_um / 2 + fiducial.window_um / 2,
    )


SEARCH_UM = 1.0
"""How far around its expected place a mark is looked for when the reference is taken."""


def _search(fiducial: Fiducial) -> tuple[float, float]:
    return fiducial.line_width_um + SEARCH_UM, fiducial.depth_um / 2 + SEARCH_UM


def _mark_px(fiducial: Fiducial, slope: float, grid: Grid) -> tuple[float, float]:
    """The size of a mark's cross-section in pixels (width w / cos(angle), height)."""
    width = fiducial.line_width_um * math.sqrt(1 + slope**2)
    return width / grid.pixel_um, fiducial.depth_um / grid.pixel_um


def take_reference(
    image: Image, scan: ScanRequest, fiducial: Fiducial, recipe: Recipe, z_um: float
) -> FiducialTrack:
    """Find both marks in ``image`` (of the face at ``z_um``) and keep their crops."""
    grid = Grid.of(scan)
    patterns = mark_patterns(fiducial, recipe, face_um=0.0)
    centers, crops, slopes = {}, {}, {}
    for name, pattern in patterns.items():
        slope = math.tan(math.radians(pattern.rotation_deg))
        mark = _mark_px(fiducial, slope, grid)
        guess = (expected_x_um(pattern, z_um), fiducial.center_y_um)
        try:
            window, at = crop(image.pixels, grid, guess, _search(fiducial))
            dx, dy = locate_bar(window, mark)
            found = (at[0] + dx * grid.pixel_um, at[1] + dy * grid.pixel_um)
            window, at = crop(image.pixels, grid, found, _half(fiducial))
        except MarkNotFound as error:
            raise FiducialLost(
                f"no fiducial mark ({name} line) found near x={guess[0]:.2f}, y={guess[1]:.2f} "
                f"um in the SE image: {error}; check the recipe's fiducial position and that "
                "it lies inside the imaged field"
            ) from None
        crops[name] = window
        centers[name] = at  # the crop's own centre: later shifts are measured from it
        slopes[name] = slope
    return FiducialTrack(reference_z_um=z_um, centers_um=centers, slopes=slopes, crops=crops)


def measure(
    image: Image, scan: ScanRequest, track: FiducialTrack, fiducial: Fiducial, z_pred_um: float
) -> Fix:
    """Both marks' residual shifts from where ``z_pred_um`` puts them, solved for (e, dz)."""
    grid = Grid.of(scan)
    shifts, scores = {}, []
    for name, reference in track.crops.items():
        ref_x, ref_y = track.centers_um[name]
        slope = track.slopes[name]
        where = (ref_x + slope * (z_pred_um - track.reference_z_um), ref_y)
        try:
            window, at = crop(image.pixels, grid, where, _half(fiducial))
        except MarkNotFound:
            return Fix((0.0, 0.0), 0.0, 0.0)
        if window.shape != reference.shape:
            return Fix((0.0, 0.0), 0.0, 0.0)
        dx, dy, score = register(reference, window, _mark_px(fiducial, slope, grid))
        shifts[name] = (  # the window's own offset from ``where`` is added back
            at[0] - where[0] + dx * grid.pixel_um,
            at[1] - where[1] + dy * grid.pixel_um,
        )
        scores.append(score)
    if set(shifts) != set(MARKS):
        return Fix((0.0, 0.0), 0.0, 0.0)
    left, right = shifts["left"], shifts["right"]
    s_left, s_right = track.slopes["left"], track.slopes["right"]
    dz = (left[0] - right[0]) / (s_left - s_right)
    drift = (left[0] - s_left * dz, (left[1] + right[1]) / 2)
    return Fix(drift, dz, min(scores))


def _rescan(scan: ScanRequest, current_na: float) -> Generator[m.Msg, Any, Image]:
    """One more frame of the same field, for the fiducial only (not a product)."""
    yield from beam_on(current_na)
    try:
        image = yield m.AcquireImage(replace(scan, frames=1))
    finally:
        yield m.Blank()
    return image


def follow_fiducial(
    image: Image, scan: ScanRequest, current_na: float, ctx: SliceContext
) -> Generator[m.Msg, Any, dict[str, Any]]:
    """Measure drift and face from ``image``, correct both; return what it found."""
    fiducial = ctx.recipe.fiducial
    assert fiducial is not None
    run = ctx.run
    if run.fiducial is None:  # the first image with the marks: the reference
        run.fiducial = take_reference(image, scan, fiducial, ctx.recipe, ctx.front_um)
        run.face_z_um = ctx.front_um
        return {"fiducial": "reference", "face_z_um": ctx.front_um}
    track, z_pred = run.fiducial, ctx.front_um
    fix, rescans, new_reference = measure(image, scan, track, fiducial, z_pred), 0, False
    while fix.score < fiducial.min_score and rescans < fiducial.retries:
        rescans += 1
        fix = measure((yield from _rescan(scan, current_na)), scan, track, fiducial, z_pred)
    if fix.score < fiducial.min_score:
        poor = fix.score
        fresh = yield from _rescan(scan, current_na)
        track = take_reference(fresh, scan, fiducial, ctx.recipe, z_pred)
        track = replace(track, reacquired=run.fiducial.reacquired + 1)
        fix = measure((yield from _rescan(scan, current_na)), scan, track, fiducial, z_pred)
        if fix.score < fiducial.min_score:
            raise FiducialLost(
                f"the fiducial matches poorly (score {poor:.2f}, then {fix.score:.2f} against a "
                f"new reference; fiducial.min_score is {fiducial.min_score:g}) after "
                f"{rescans} rescans: look at the marks in the last SE image, then resume"
            )
        new_reference = True
    t_s = yield m.ReadClock()
    measured = (run.applied_um[0] + fix.drift_um[0], run.applied_um[1] + fix.drift_um[1])
    rate = run.drift_rate_um_per_s
    if new_reference:  # the new reference is taken where the prediction stood
        measured = run.applied_um
    elif run.drift_t_s is not None and t_s > run.drift_t_s:
        dt = t_s - run.drift_t_s
        now = ((measured[0] - run.drift_um[0]) / dt, (measured[1] - run.drift_um[1]) / dt)
        rate = tuple(
            RATE_SMOOTHING * n + (1 - RATE_SMOOTHING) * r for n, r in zip(now, rate, strict=True)
        )  # type: ignore[assignment]
    face = z_pred + fix.dz_um
    run.fiducial = track
    run.drift_um, run.drift_rate_um_per_s, run.drift_t_s = measured, rate, t_s
    run.face_z_um = face
    run.front_offset_um -= fiducial.thickness_gain * (face - ctx.nominal_front_um)
    yield from correct_drift(ctx)
    return {
        "drift_x_um": measured[0],
        "drift_y_um": measured[1],
        "face_z_um": face,
        "match_score": fix.score,
        "fiducial_rescans": rescans,
        "fiducial_new_reference": new_reference,
    }


def predicted_drift(run: RunContext, t_s: float) -> tuple[float, float]:
    """The drift expected at ``t_s``: the last measurement carried forward at its rate."""
    if run.drift_t_s is None:
        return run.drift_um
    dt = t_s - run.drift_t_s
    return (
        run.drift_um[0] + run.drift_rate_um_per_s[0] * dt,
        run.drift_um[1] + run.drift_rate_um_per_s[1] * dt,
    )


def correct_drift(ctx: SliceContext) -> Generator[m.Msg, Any, None]:
    """Before a scan or a cut: beam shift (and, past its range, the stage) to the drift
    predicted for now, so the beam lands where it did at the reference."""
    fiducial, run = ctx.recipe.fiducial, ctx.run
    if fiducial is None or ctx.dry_run or run.fiducial is None:
        return
    target = predicted_drift(run, (yield m.ReadClock()))
    run.stage_offset_um = yield from _follow_drift(
        target, run.stage_offset_um, fiducial.max_beam_shift_um
    )
    run.applied_um = target


def _follow_drift(
    drift: tuple[float, float], stage: tuple[float, float], limit_um: float
) -> Generator[m.Msg, Any, tuple[float, float]]:
    """Beam shift = drift - stage offset; past the limit (or refused), the stage moves."""
    shift = (drift[0] - stage[0], drift[1] - stage[1])
    if max(abs(shift[0]), abs(shift[1])) <= limit_um:
        try:
            yield m.SetBeamShift(shift)
            return stage
        except InstrumentError:
            pass  # out of the deflectors' range here: the stage takes it
    at = yield m.ReadStage()
    yield m.MoveStage(replace(at, x_um=at.x_um + shift[0], y_um=at.y_um + shift[1]))
    yield m.SetBeamShift((0.0, 0.0))
    return drift
