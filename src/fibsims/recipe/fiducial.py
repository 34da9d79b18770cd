"""The fiducial: two angled lines milled into the block at set-up, followed in every SE image.

Why two angled lines: where the face cuts a line milled at an angle to the slicing axis, the
line's cross-section sits at x = x0 + z tan(angle). With two lines turned outwards (-angle on
the left, +angle on the right) the mean of their positions moves only with the drift, and
their separation only with the face position z (2 tan(angle) per unit of depth), so one pair
of marks gives both loops their measurement: drift-corrected imaging and milling, and
measured slice thickness (as tracking marks on the top surface do in
commercial slice-and-view software). The lines run ahead of the face along the slicing axis
for the whole volume, ``depth_um`` deep, near the top of the imaged field.
"""

from __future__ import annotations

from pydantic import Field

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import MAX_BEAM_CURRENT_NA, MAX_FIELD_OF_VIEW_UM

HALF_FIELD = MAX_FIELD_OF_VIEW_UM / 2


class Fiducial(RecipeModel):
    """Milled once before the first slice; the run then corrects drift and slice thickness
    from it. Positions are in the face frame: x across, y down, from the field centre."""

    current_na: float = Field(
        default=4,
        gt=0,
        le=MAX_BEAM_CURRENT_NA,
        description=f"milling current in nA, up to {MAX_BEAM_CURRENT_NA}",
    )
    center_x_um: float = Field(
        default=0,
        ge=-HALF_FIELD,
        le=HALF_FIELD,
        description=f"x of the pair's centre in um, -{HALF_FIELD:g} to {HALF_FIELD:g}",
    )
    center_y_um: float = Field(
        default=-4.5,
        ge=-HALF_FIELD,
        le=HALF_FIELD,
        description=(
            f"y of the lines' cross-sections in um, -{HALF_FIELD:g} to {HALF_FIELD:g} "
            "(negative: towards the top)"
        ),
    )
    spacing_um: float = Field(
        default=12,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=f"x distance of the lines' centres in um, up to {MAX_FIELD_OF_VIEW_UM}",
    )
    angle_deg: float = Field(
        default=30,
        ge=5,
        le=60,
        description="angle of each line to the slicing axis, 5 to 60 deg (steeper: finer z)",
    )
    line_width_um: float = Field(
        default=0.3, gt=0, le=20, description="width of each line in um, up to 20"
    )
    depth_um: float = Field(
        default=1.5,
        gt=0,
        le=50,
        description="extent of the cross-sections down the face in um, up to 50",
    )
    length_um: float | None = Field(
        default=None,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"length along the slicing axis in um, up to {MAX_FIELD_OF_VIEW_UM}; leave out for "
            "the volume depth + 1 um"
        ),
    )
    window_um: float = Field(
        default=0.4,
        gt=0,
        le=50,
        description="half-width of the window each line is matched in, in um, up to 50",
    )
    min_score: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="least match score (normalised correlation, 0 to 1) accepted as a fix",
    )
    retries: int = Field(
        default=1,
        ge=0,
        le=10,
        description="rescans of a poor match before a new reference, up to 10",
    )
    max_beam_shift_um: float = Field(
        default=5,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"beam shift used for drift before the stage takes over, in um, up to "
            f"{MAX_FIELD_OF_VIEW_UM}"
        ),
    )
    thickness_gain: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="share of a face error corrected on the next cut, 0 (measure only) to 1",
    )
