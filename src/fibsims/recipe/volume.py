"""The block a run slices: its face and how far behind it to go.

Its own module because both the recipe and each of its sites (:mod:`fibsims.recipe.sites`)
have one.
"""

from __future__ import annotations

from pydantic import Field

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import MAX_SLICES


class Volume(RecipeModel):
    """The block to slice: the cut face and how far behind it to go."""

    face_width_um: float = Field(gt=0, le=500, description="width of the cut face in um, up to 500")
    face_height_um: float = Field(
        gt=0, le=500, description="height of the cut face in um, up to 500"
    )
    slice_thickness_nm: float = Field(
        ge=1, le=1000, description="material removed per slice in nm, 1 to 1000"
    )
    slices: int = Field(ge=1, le=MAX_SLICES, description=f"number of slices, 1 to {MAX_SLICES}")

    @property
    def depth_um(self) -> float:
        """Total depth sliced along the slicing axis, in um."""
        return self.slices * self.slice_thickness_nm / 1000
