"""Preflight warnings about where the scans land: each field against the face.

Why: pixels are square, so a field's height is its width x H / W. A 192 x 128 SE image of a
20 um wide face covers 20 x 13.3 um of a 20 x 15 um face and never sees the top and bottom
0.8 um; a 256 x 256 raster covers 20 x 20 um, 2.5 um beyond the face at top and bottom, where
it maps the protective cap and the trench instead of the sample. Neither stops a run, but each
makes the data less than the scientist thinks, so preflight says so with the numbers and the
resolution that would fit. A field moved off centre (``field_center_um``) is judged by its
edges: the face spans -W/2..W/2 across and -H/2..H/2 down, the field its centre +- half its size.
"""

from __future__ import annotations

from fibsims.engine.plan import located_steps
from fibsims.engine.steps.imaging import scan_request
from fibsims.instrument.types import ScanRequest
from fibsims.recipe import Recipe, SEImageStep, SimsRasterStep

PIXEL_SLACK = 1.0
"""A field may miss or pass the face by up to one pixel without a warning (rounding)."""


def field_warnings(recipe: Recipe) -> list[str]:
    """One warning per scan whose field does not match the face, with the fix."""
    found = []
    for where, step in located_steps(recipe):
        if isinstance(step, SEImageStep | SimsRasterStep):
            warning = _field_warning(recipe, step, where)
            if warning is not None:
                found.append(warning)
    return found


def _field_warning(recipe: Recipe, step: SEImageStep | SimsRasterStep, where: str) -> str | None:
    face_w, face_h = recipe.volume.face_width_um, recipe.volume.face_height_um
    scan = scan_request(step, face_w)
    beyond = _beyond(scan, face_w, face_h)
    what = "image" if isinstance(step, SEImageStep) else "raster"
    width_px, height_px = scan.resolution_px
    size = f"the {width_px} x {height_px} px {what}"
    covers = (
        f"covers {scan.field_width_um:.3g} x {scan.field_height_um:.3g} um of the "
        f"{face_w:g} x {face_h:g} um face"
    )
    pixel_um = scan.pixel_size_nm / 1000.0
    centred = scan.center_x_um == scan.center_y_um == 0.0
    fix = f"set resolution [{width_px}, {round(face_h / pixel_um)}] to cover the face height"
    if step.field_height_um is not None:  # the height is given: the resolution alone won't do
        fix = (
            f"set resolution [{width_px}, {round(face_h / pixel_um)}] and field_height_um "
            f"{face_h:g} to cover the face"
        )
    if beyond:
        sides = _sides(beyond)
        advice = fix if centred and set(beyond) == {"top", "bottom"} else "move or shrink it"
        return f"{where}: {size} {covers}, {sides}, where it sees no sample; {advice}"
    shortfall = face_h - scan.field_height_um
    full_width = scan.field_width_um >= face_w - PIXEL_SLACK * pixel_um  # a zoomed field is meant
    if centred and full_width and shortfall > PIXEL_SLACK * pixel_um:
        return (
            f"{where}: {size} {covers}: the top and bottom {shortfall / 2:.3g} um of the face "
            f"are never seen; {fix}"
        )
    return None


def _beyond(scan: ScanRequest, face_w: float, face_h: float) -> dict[str, float]:
    """How far (um) the field passes each edge of the face, for the edges it passes by more
    than half of :data:`PIXEL_SLACK` (the slack is shared by the two edges of an axis)."""
    half_w, half_h = scan.field_width_um / 2, scan.field_height_um / 2
    slack = PIXEL_SLACK * scan.pixel_size_nm / 1000.0 / 2
    edges = {
        "left": -face_w / 2 - (scan.center_x_um - half_w),
        "right": scan.center_x_um + half_w - face_w / 2,
        "top": -face_h / 2 - (scan.center_y_um - half_h),
        "bottom": scan.center_y_um + half_h - face_h / 2,
    }
    return {side: over for side, over in edges.items() if over > slack}


def _sides(beyond: dict[str, float]) -> str:
    if set(beyond) == {"top", "bottom"} and abs(beyond["top"] - beyond["bottom"]) < 1e-9:
        return f"{beyond['top']:.3g} um beyond the face at top and bottom"
    if set(beyond) == {"left", "right"} and abs(beyond["left"] - beyond["right"]) < 1e-9:
        return f"{beyond['left']:.3g} um beyond the face at each side"
    return ", ".join(f"{over:.3g} um beyond its {side} edge" for side, over in beyond.items())
