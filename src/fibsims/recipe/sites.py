"""Several regions of interest in one recipe: ``sites:``, run one after another.

Why a list of sites rather than several recipes: the sites of one sample share everything a
person tunes once (instrument, slice steps, schedules, limits, fiducial, suspenders); only where
each one is (its stage position) and, optionally, how big its block is (its ``volume``) differ.
Each site becomes an ordinary single-site recipe (:func:`site_recipe`), so everything that runs,
resumes, reads or exports one run works on a site unchanged.

A recipe without ``sites:`` is exactly the recipe it always was.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.volume import Volume

MAX_SITES = 100
"""A session rarely visits more than a handful of regions; a hundred is a typo or a script."""

MAX_STAGE_TRAVEL_UM = 100_000.0
"""+-100 mm: wider than any FIB-SEM stage's travel (50-110 mm). The instrument's own travel,
where it is known, is checked by the run before the first site starts."""

SITE_NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9_-])?$"
"""Lowercase letters, digits, '.', '_' or '-', at most 64, not ending in '.': a folder name on
every platform, and the same name on a case-insensitive file system."""

WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", *(f"{port}{i}" for port in ("com", "lpt") for i in range(1, 10))]
)
"""Device names Windows refuses as a folder name, with any extension."""


class SiteStage(RecipeModel):
    """Where the stage goes for a site. The tilt is shared: ``instrument.stage_tilt_deg``."""

    x_um: float = Field(
        ge=-MAX_STAGE_TRAVEL_UM,
        le=MAX_STAGE_TRAVEL_UM,
        description=f"stage x in um (across the cut face), {-MAX_STAGE_TRAVEL_UM:g} to "
        f"{MAX_STAGE_TRAVEL_UM:g}",
    )
    y_um: float = Field(
        ge=-MAX_STAGE_TRAVEL_UM,
        le=MAX_STAGE_TRAVEL_UM,
        description=f"stage y in um (down the cut face), {-MAX_STAGE_TRAVEL_UM:g} to "
        f"{MAX_STAGE_TRAVEL_UM:g}",
    )
    z_um: float = Field(
        default=0.0,
        ge=-MAX_STAGE_TRAVEL_UM,
        le=MAX_STAGE_TRAVEL_UM,
        description=f"stage z in um (height, for focus), {-MAX_STAGE_TRAVEL_UM:g} to "
        f"{MAX_STAGE_TRAVEL_UM:g}; default 0",
    )
    rotation_deg: float = Field(
        default=0.0,
        ge=-360,
        le=360,
        description="stage rotation in deg about the face normal, -360 to 360; the rocking "
        "polish rocks about it; default 0",
    )


class Site(RecipeModel):
    """One region of interest: its name, where it is, and optionally its own block."""

    name: str = Field(
        pattern=SITE_NAME_PATTERN,
        description="site name, unique in the recipe: 1 to 64 lowercase letters, digits, '.', "
        "'_' or '-', not ending in '.' (names the site's folder, DIR/sites/<name>)",
    )
    description: str | None = Field(default=None, description="free text")
    stage: SiteStage = Field(description="stage position of the site (x_um, y_um, z_um, rotation)")
    volume: Volume | None = Field(
        default=None,
        description="the site's own face size, slice thickness and number of slices; "
        "default: the recipe's volume",
    )


def site_problems(
    sites: list[Site], shared: Volume | None, mill_depth_um: float | None
) -> Iterator[tuple[str, str]]:
    """Rules across sites, as (where relative to ``sites``, message): names unique and usable
    as folder names, each site's face cleared by the mill, and no two faces overlapping (two
    sites would otherwise mill the same material, and the second would image the first's
    trench)."""
    seen: dict[str, int] = {}
    for i, site in enumerate(sites):
        if site.name.split(".")[0] in WINDOWS_RESERVED:
            yield (
                f"{i}.name",
                f"{site.name!r} is a device name on Windows and cannot name a folder there; "
                "choose another name",
            )
        if site.name in seen:
            yield (
                f"{i}.name",
                f"{site.name!r} is already the name of sites.{seen[site.name]}; every site "
                "needs its own name (it names the site's folder)",
            )
        seen.setdefault(site.name, i)
        volume = site.volume or shared
        if volume is not None and mill_depth_um is not None:
            yield from _uncleared(i, site, volume, mill_depth_um)
    for (i, a), (j, b) in _pairs(sites):
        va, vb = a.volume or shared, b.volume or shared
        if va is None or vb is None:
            continue
        dx = abs(a.stage.x_um - b.stage.x_um)
        dy = abs(a.stage.y_um - b.stage.y_um)
        apart_x = (va.face_width_um + vb.face_width_um) / 2
        apart_y = (va.face_height_um + vb.face_height_um) / 2
        if dx < apart_x and dy < apart_y:
            yield (
                f"{j}.stage",
                f"site {b.name!r} at ({b.stage.x_um:g}, {b.stage.y_um:g}) um overlaps the face "
                f"of site {a.name!r} (sites.{i}) at ({a.stage.x_um:g}, {a.stage.y_um:g}) um: "
                "both would mill the same material; move it at least "
                f"{apart_x:g} um apart in x_um or {apart_y:g} um in y_um",
            )


def _uncleared(
    i: int, site: Site, volume: Volume, mill_depth_um: float
) -> Iterator[tuple[str, str]]:
    if mill_depth_um >= volume.face_height_um:
        return
    yield (
        f"{i}.volume.face_height_um" if site.volume else f"{i}.name",
        f"site {site.name!r}: its face is {volume.face_height_um:g} um high but the mill "
        f"step cuts {mill_depth_um:g} um deep, so the bottom of the face is never cleared; "
        f"lower face_height_um to at most {mill_depth_um:g} or deepen the mill step",
    )


def _pairs(sites: list[Site]) -> Iterator[tuple[tuple[int, Site], tuple[int, Site]]]:
    for j, b in enumerate(sites):
        for i, a in enumerate(sites[:j]):
            yield (i, a), (j, b)
