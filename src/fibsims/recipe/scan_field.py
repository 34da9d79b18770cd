"""Where a scan's field lies on the face: its width or height, and its centre.

Why: the SE image and the SIMS raster place their fields alike. Pixels are square (the scan
generators fibsims drives step x and y alike), so a field is its width (or height) and the
resolution's aspect: 256 x 192 px over a 20 um width is 20 x 15 um. A recipe may give the width
(default: the face width), or the height (the width follows), or both when they agree with the
resolution; and a centre offset from the face centre, to image a region of the face (x across,
y down, in um). Each scanning step declares the three fields with these factories and checks
them with :func:`check_field`.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from pydantic import Field

from fibsims.recipe.bounds import MAX_FIELD_OF_VIEW_UM
from fibsims.recipe.rules import rule

UP_TO_FIELD_OF_VIEW = f"up to {MAX_FIELD_OF_VIEW_UM} (the widest field of view)"


def field_width() -> Any:
    return Field(
        default=None,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"horizontal field width in um, {UP_TO_FIELD_OF_VIEW}; leave out to image the whole "
            "face width (or to follow field_height_um)"
        ),
    )


def field_height() -> Any:
    return Field(
        default=None,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"vertical field height in um, {UP_TO_FIELD_OF_VIEW}; pixels are square, so the "
            "width follows from the resolution unless field_width_um is given too (then the "
            "two must match the resolution's aspect)"
        ),
    )


CenterUm = Annotated[
    float, Field(ge=-MAX_FIELD_OF_VIEW_UM, le=MAX_FIELD_OF_VIEW_UM, allow_inf_nan=False)
]
"""One coordinate of a field centre offset, in um."""


def field_center() -> Any:
    return Field(
        default=(0.0, 0.0),
        description=(
            "centre of the field relative to the face centre in um, [x across, y down the "
            f"face], each within +-{MAX_FIELD_OF_VIEW_UM}"
        ),
    )


class Scanning(Protocol):
    resolution: tuple[int, int]
    field_width_um: float | None
    field_height_um: float | None
    field_center_um: tuple[float, float]


def check_field(step: Scanning) -> None:
    """Refuse a width and height that disagree with the resolution (square pixels), naming
    the resolution that would fit."""
    width_um, height_um = step.field_width_um, step.field_height_um
    if width_um is None or height_um is None:
        return
    width_px, height_px = step.resolution
    pixel_um = width_um / width_px
    if abs(height_um - pixel_um * height_px) <= pixel_um:  # within a pixel
        return
    fits = max(1, round(height_um / pixel_um))
    raise rule(
        "field_height_um",
        f"{width_um:g} x {height_um:g} um does not match the resolution "
        f"{[width_px, height_px]} with square pixels ({width_um:g} um wide gives "
        f"{pixel_um * height_px:.4g} um high); set resolution [{width_px}, {fits}], or leave "
        "out field_width_um or field_height_um",
    )


def field_width_on(step: Scanning, face_width_um: float) -> float:
    """The field width ``step`` scans on a face ``face_width_um`` wide."""
    if step.field_width_um is not None:
        return step.field_width_um
    if step.field_height_um is not None:
        width_px, height_px = step.resolution
        return step.field_height_um * width_px / height_px
    return face_width_um
