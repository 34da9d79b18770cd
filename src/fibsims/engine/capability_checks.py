"""Preflight against what the instrument offers: currents, voltage, tilt, scans, field of view,
beam-shift range and stage rotation.

Each problem names the recipe field as the recipe wrote it (``slice.2.se_image.current_pa``),
the value in the unit the recipe used, and the values the instrument does offer: a scientist
who asked for 13.7 nA reads "nearest: 4 nA, 15 nA", one who typed ``current_pa: 0.1`` for
0.1 nA reads "0.1 pA ... did you mean current_pa: 100?". A backend that declares no
:class:`~fibsims.instrument.capabilities.Capabilities` is checked against its column's ladder
with :data:`DEFAULT_CURRENT_TOLERANCE`, and its scans are not checked.
"""

from __future__ import annotations

from typing import Any

from fibsims.engine.plan import located_steps
from fibsims.engine.steps.imaging import scan_request
from fibsims.instrument.capabilities import (
    Capabilities,
    ScanCapabilities,
    neighbouring_rungs,
    rung_within,
)
from fibsims.instrument.interfaces import Instrument
from fibsims.recipe import Recipe, RockingPolishStep, SEImageStep, SimsRasterStep

DEFAULT_CURRENT_TOLERANCE = 0.05
"""A current may sit within 5 % of a rung when the backend declares no tolerance of its own
(rung labels are rounded to two significant figures)."""
PA_PER_NA = 1000.0


def capability_problems(recipe: Recipe, instrument: Instrument) -> list[str]:
    """Everything in ``recipe`` the instrument cannot do, each with the field and the fix."""
    caps = instrument.capabilities
    if caps is None:
        ladder = tuple(sorted(instrument.column.current_ladder_na()))
        return _ladder_problems(recipe, ladder, DEFAULT_CURRENT_TOLERANCE)
    return declared_problems(recipe, caps)


def declared_problems(recipe: Recipe, caps: Capabilities) -> list[str]:
    """Everything in ``recipe`` a backend declaring ``caps`` cannot do (what
    :func:`capability_problems` finds, from the declaration alone: an estimate asks it of a
    backend's :class:`~fibsims.instrument.registry.CostView` without opening the backend)."""
    problems = _ladder_problems(
        recipe, tuple(sorted(caps.current_ladder_na)), caps.current_tolerance
    )
    low, high = caps.voltage_range_kv
    voltage = recipe.instrument.voltage_kv
    if not low <= voltage <= high:
        problems.append(
            f"instrument.voltage_kv: {voltage:g} kV is outside the column's {low:g} to {high:g} kV"
        )
    low, high = caps.stage_tilt_range_deg
    tilt = recipe.instrument.stage_tilt_deg
    if not low <= tilt <= high:
        problems.append(
            f"instrument.stage_tilt_deg: {tilt:g} deg is outside the stage's {low:g} to "
            f"{high:g} deg"
        )
    for where, step in located_steps(recipe):
        if isinstance(step, SEImageStep | SimsRasterStep):
            problems += _scan_problems(recipe, where, step, caps)
        if isinstance(step, RockingPolishStep):
            problems += _rotation_problems(where, step, caps)
    if recipe.fiducial is not None:
        shift = caps.beam_shift_problem(
            "fiducial.max_beam_shift_um", recipe.fiducial.max_beam_shift_um
        )
        problems += [] if shift is None else [shift]
    return problems


def _rotation_problems(where: str, step: RockingPolishStep, caps: Capabilities) -> list[str]:
    """Rocking angles the stage cannot rotate to (the polish rotates about the face normal)."""
    return [
        p
        for i, angle in enumerate(step.angles_deg)
        if (p := caps.rotation_problem(f"{where}.angles_deg.{i}", float(angle))) is not None
    ]


def _ladder_problems(recipe: Recipe, ladder: tuple[float, ...], tolerance: float) -> list[str]:
    return [
        p
        for where, step in _current_fields(recipe)
        if (p := _current_problem(where, step, ladder, tolerance)) is not None
    ]


def _current_fields(recipe: Recipe) -> list[tuple[str, Any]]:
    """(dotted field, owner) for every beam current the recipe sets."""
    fields = located_steps(recipe)
    if recipe.fiducial is not None:
        fields.append(("fiducial", recipe.fiducial))
    return fields


def _current_problem(
    where: str, owner: Any, ladder: tuple[float, ...], tolerance: float
) -> str | None:
    current_na = float(owner.current_na)
    if rung_within(ladder, current_na, tolerance) is not None:
        return None
    in_pa = "current_pa" in type(owner).model_fields
    scale, unit = (PA_PER_NA, "pA") if in_pa else (1.0, "nA")
    nearest = ", ".join(f"{r * scale:g} {unit}" for r in neighbouring_rungs(ladder, current_na))
    message = (
        f"{where}.current_{unit.lower()}: {current_na * scale:g} {unit} is not on the "
        f"column's current ladder; nearest: {nearest}"
    )
    slip = _magnitude_slip(current_na, ladder, tolerance)
    if slip is not None:
        message += (
            f"; did you mean current_{unit.lower()}: {slip * scale:g} "
            f"({_readable(slip)}, a factor of 1000 off)?"
        )
    return message


def _magnitude_slip(current_na: float, ladder: tuple[float, ...], tolerance: float) -> float | None:
    """The rung ``current_na`` hits when a factor of 1000 is put right (nA written as pA or
    the other way round), or None."""
    for candidate in (current_na * PA_PER_NA, current_na / PA_PER_NA):
        rung = rung_within(ladder, candidate, tolerance)
        if rung is not None:
            return rung
    return None


def _readable(current_na: float) -> str:
    return f"{current_na:g} nA" if current_na >= 1 else f"{current_na * PA_PER_NA:g} pA"


def _scan_problems(
    recipe: Recipe, where: str, step: SEImageStep | SimsRasterStep, caps: Capabilities
) -> list[str]:
    limits: ScanCapabilities | None = (
        caps.se_scan if isinstance(step, SEImageStep) else caps.sims_scan
    )
    if limits is None:
        return [f"{where}: the instrument has no ToF spectrometer to raster with"]
    scan = scan_request(step, recipe.volume.face_width_um)
    problems = []
    if (problem := limits.resolution_problem(scan.resolution_px)) is not None:
        problems.append(f"{where}.resolution: {problem}")
    if (problem := limits.dwell_problem(scan.dwell_us)) is not None:
        problems.append(f"{where}.dwell_us: {problem}")
    if scan.field_width_um > caps.max_field_width_um:
        field = "field_width_um" if step.field_width_um else "field_width_um (the face width)"
        problems.append(
            f"{where}.{field}: {scan.field_width_um:g} um is wider than the column's "
            f"{caps.max_field_width_um:g} um field of view"
        )
    return problems
