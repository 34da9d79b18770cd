"""Preflight warnings about where the scans land: each field against the face.

Why: pixels are square, so a field's height is its width x H / W. A 192 x 128 SE image of a
20 um wide face covers 20 x 13.3 um of a 20 x 15 um face and never sees the top and bottom
0.8 um; a 256 x 256 raster covers 20 x 20 um, 2.5 um beyond the face at top and bottom, where
it maps the protective cap and the trench instead of the sample. Neither stops a run, but each
makes the data less than the scientist thinks, so preflight says so with the numbers and the
resolution that would fit.
"""

from __future__ import annotations

from fibsims.engine.steps.imaging import scan_request
from fibsims.recipe import Recipe, SEImageStep, SimsRasterStep

PIXEL_SLACK = 1.0
"""A field may miss or pass the face by up to one pixel without a warning (rounding)."""


def field_warnings(recipe: Recipe) -> list[str]:
    """One warning per scan whose field does not match the face, with the fix."""
    found = []
    face_w, face_h = recipe.volume.face_width_um, recipe.volume.face_height_um
    for position, step in enumerate(recipe.slice):
        if not isinstance(step, SEImageStep | SimsRasterStep):
            continue
        scan = scan_request(step, face_w)
        pixel_um = scan.pixel_size_nm / 1000.0
        width, height = scan.field_width_um, scan.field_height_um
        slack = PIXEL_SLACK * pixel_um
        what = "image" if isinstance(step, SEImageStep) else "raster"
        size = f"the {scan.resolution_px[0]} x {scan.resolution_px[1]} px {what}"
        covers = f"covers {width:.3g} x {height:.3g} um of the {face_w:g} x {face_h:g} um face"
        fits = round(face_h / pixel_um)
        fix = f"set resolution [{scan.resolution_px[0]}, {fits}] to cover the face height"
        where = f"slice.{position}.{step.kind}"
        if height > face_h + slack:
            found.append(
                f"{where}: {size} {covers}, {(height - face_h) / 2:.3g} um beyond the face at "
                f"top and bottom (the cap and the trench, not the sample); {fix}"
            )
        elif height < face_h - slack and width >= face_w - slack:  # a zoomed field is meant
            found.append(
                f"{where}: {size} {covers}: the top and bottom {(face_h - height) / 2:.3g} um "
                f"of the face are never seen; {fix}"
            )
        if width > face_w + slack:
            found.append(
                f"{where}: the field is {width:.3g} um wide, {(width - face_w) / 2:.3g} um "
                f"beyond the {face_w:g} um face at each side; lower field_width_um"
            )
    return found
