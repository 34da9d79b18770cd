"""The folder of a multi-site run: its layout, its manifest, and how each site stands.

Layout (``DIR`` is the run folder ``fibsims run`` made)::

    DIR/sites.json        the manifest, written once: the recipe (SHA-256, text, validated
                          form), the run seed, the instrument, and the sites in run order,
                          each with its folder and its seed
    DIR/recipe.yaml       the recipe as written, sites and all (checked on resume)
    DIR/.fibsims.lock     held by the process that runs the sites (and owner.json)
    DIR/sites/<name>/     one ordinary run folder per site, made when the site starts

How a site stands is read from its own folder (its journal), never kept twice: a site without
a folder (or whose folder holds no run yet) is ``pending``; otherwise it is what ``fibsims
status`` says of that folder. The run as a whole stands where its first site not completed
stands (see :func:`overall`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fibsims.recipe.bounds import MAX_SEED
from fibsims.service.folder import RunFolder, RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout

MANIFEST_NAME = "sites.json"
SITES_DIR = "sites"
FINAL = ("completed", "aborted")
"""A site in one of these states is done with: resume goes on with the next one."""


@dataclass(frozen=True)
class SitesLayout:
    folder: Path

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def recipe_copy(self) -> Path:
        return self.folder / "recipe.yaml"

    @property
    def sites(self) -> Path:
        return self.folder / SITES_DIR

    def site(self, name: str) -> RunLayout:
        return RunLayout(self.sites / name)


class SiteEntry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)]


class SitesManifest(BaseModel):
    """``sites.json``. Unknown keys are kept for newer versions' sake."""

    model_config = ConfigDict(extra="allow", frozen=True)

    recipe: str
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)]
    instrument: str = Field(min_length=1)
    truth: bool = False
    sites: list[SiteEntry] = Field(min_length=1)
    recipe_sha256: str | None = None
    recipe_model: dict[str, Any] | None = None


@dataclass
class SiteState:
    """One site as its folder says."""

    index: int
    name: str
    layout: RunLayout
    run: RunFolder | None
    """The site's run, None while it has not started."""

    @property
    def state(self) -> str:
        return self.run.effective_state if self.run is not None else "pending"

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def end_t_s(self) -> float:
        """Instrument time at which the site's last session stopped (its committed data end
        if that session was killed): where the next site's clock starts."""
        if self.run is None:
            return 0.0
        ended = [
            float(e["t_s"])
            for e in self.run.scan.entries
            if e.get("entry") == "session_ended" and isinstance(e.get("t_s"), int | float)
        ]
        return max([self.run.last_commit_t_s, *ended[-1:]])


def is_sites_folder(folder: Path) -> bool:
    """``folder`` holds a multi-site run (its manifest), not a run of its own."""
    return SitesLayout(folder).manifest.is_file()


def read_sites_manifest(layout: SitesLayout) -> SitesManifest:
    try:
        data = json.loads(layout.manifest.read_text(encoding="utf-8"))
        return SitesManifest.model_validate(data)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            error = ValueError(f"{'.'.join(map(str, first['loc'])) or 'record'}: {first['msg']}")
        raise RunFolderError(
            f"{layout.manifest} is damaged ({error}); it lists the run's sites, so the run "
            "cannot be resumed without it: restore it from a backup (each site's folder under "
            f"{layout.sites} is an ordinary run folder and still reads on its own)"
        ) from None


def read_site_states(layout: SitesLayout, manifest: SitesManifest) -> list[SiteState]:
    """Every site in run order, as its folder stands now."""
    states = []
    for index, entry in enumerate(manifest.sites):
        site = layout.site(entry.name)
        run = open_run_folder(site) if site.manifest.exists() else None
        states.append(SiteState(index, entry.name, site, run))
    return states


def overall(states: list[SiteState]) -> tuple[str, SiteState | None]:
    """How the run stands, and the site it stands at: a live site's state; ``completed``
    when every site is; ``ended`` when every site is completed or aborted; else the state of
    the first site not done with (``pending`` reads ``paused``: stopped between sites)."""
    live = next((s for s in states if s.run is not None and s.run.alive), None)
    if live is not None:
        return live.state, live
    if all(s.state == "completed" for s in states):
        return "completed", None
    current = next((s for s in states if not s.final), None)
    if current is None:
        return "ended", None
    return ("paused" if current.state == "pending" else current.state), current
