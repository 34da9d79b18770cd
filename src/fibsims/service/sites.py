"""Several sites: ``fibsims run`` and ``resume`` of a recipe with ``sites:``.

The sites run one after another, each as an ordinary run in its own folder
(``DIR/sites/<name>``, :mod:`fibsims.service.sites_folder`) through the same services as a
run of its own (:func:`~fibsims.service.runs.start_in_folder`,
:func:`~fibsims.service.runs.resume_in_folder`), so each has its own run.h5, journal, summary,
lock and resume point, and ``status``, ``reconstruct``, ``export`` and ``report`` read it as any
run. What a site adds (:class:`~fibsims.service.placement.Placement`): the stage goes to it,
its instrument clock starts where the previous site's ended, and its preflight also checks the
sites still to come against ``limits.max_hours``, which holds for the whole run.

Each site is a fresh sample state for the twin (its own trench at its own stage position; the
twin samples its phantom at the stage's x and y), with a seed derived from the run seed and the
site's name, so two sites never share noise and a renamed or reordered site keeps its data.

A site that ends completed lets the next one start; any other ending stops the run there.
``fibsims resume DIR`` continues the first site that is neither completed nor aborted (from its
first slice not committed) and then the rest: an aborted site is given up, not redone.
The whole run holds ``DIR``'s lock while it works; each site's folder has its own as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from fibsims.data.atomic import write_json_atomic
from fibsims.instrument.types import StagePosition
from fibsims.recipe import Recipe, RecipeError, Site, parse_overrides, parse_recipe
from fibsims.recipe.bounds import MAX_SEED
from fibsims.recipe.source_file import read_recipe_text
from fibsims.service.folder import RunFolderError
from fibsims.service.integrity import changed_fields, recipe_record, recipe_sha256
from fibsims.service.lock import LOCK_NAME, OWNER_NAME, RunLock, RunLocked
from fibsims.service.outdir import check_out_folder, make_run_folder
from fibsims.service.placement import Placement
from fibsims.service.runs import (
    ResumeRequest,
    RunReport,
    RunRequest,
    manifest_head,
    resume_in_folder,
    resume_run,
    start_in_folder,
    start_run,
)
from fibsims.service.seeds import default_seed
from fibsims.service.signals import RunControl, run_control
from fibsims.service.sites_faults import site_faults
from fibsims.service.sites_folder import (
    SitesLayout,
    SitesManifest,
    SiteState,
    is_sites_folder,
    overall,
    read_site_states,
    read_sites_manifest,
)
from fibsims.service.sites_limit import whole_run_check

__all__ = ["SitesReport", "resume", "site_seed", "start"]


@dataclass
class SitesReport:
    """What ``run``/``resume`` of a multi-site run did: each site's report, in run order."""

    status: str
    folder: Path
    sites: list[tuple[str, RunReport]] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


def site_seed(run_seed: int, name: str) -> int:
    """A site's run seed: derived from the run seed and the site's name (not its position in
    the list), so a site keeps its data when others are added, removed or reordered."""
    digest = hashlib.sha256(f"fibsims-site:{run_seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & MAX_SEED


def overrides_refused(recipe_path: Path) -> str:
    """Why a run of a recipe with sites refuses ``--set`` (``run --dry-run`` says it too)."""
    return (
        f"{recipe_path} lists sites, and --set does not reach a multi-site run yet (each "
        "site's folder keeps its own recipe): edit the recipe instead"
    )


def start(request: RunRequest) -> RunReport | SitesReport:
    """``fibsims run``: a recipe with sites runs them all; any other runs as it always did."""
    with run_control() as control:
        text = read_recipe_text(request.recipe_path)
        recipe = parse_recipe(text, str(request.recipe_path), parse_overrides(request.overrides))
        if recipe.sites is None:
            return start_run(request)
        if request.overrides:
            raise RunFolderError(overrides_refused(request.recipe_path))
        return _start_sites(control, request, text, recipe)


def resume(request: ResumeRequest) -> RunReport | SitesReport:
    """``fibsims resume``: a multi-site run continues its first unfinished site, then the
    rest; a site's own folder is refused (the run's order and time limit live above it)."""
    with run_control() as control:
        if is_sites_folder(request.folder):
            return _resume_sites(control, request)
        _refuse_a_site_folder(request.folder)
        return resume_run(request)


def _refuse_a_site_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        site = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("site")
        if isinstance(site, dict):
            parent = folder.absolute().parent.parent
            raise RunFolderError(
                f"{folder} is site {site.get('name')!r} of the multi-site run in {parent}; "
                f"resume the whole run, which continues its sites in order: "
                f"`fibsims resume {parent}`"
            )


# -- starting ---------------------------------------------------------------------------------
def _start_sites(
    control: RunControl, request: RunRequest, text: str, recipe: Recipe
) -> SitesReport:
    sites = recipe.sites or []
    seed = request.seed if request.seed is not None else default_seed(recipe)
    faults = site_faults(request.faults, recipe)  # refused before any folder is made
    root, made = make_run_folder(request.out, request.runs_root, recipe.recipe)
    layout = SitesLayout(root)
    lock = RunLock(root, "run")
    try:
        lock.acquire()
    except RunLocked as error:
        raise RunFolderError(str(error)) from None
    try:
        check_out_folder(root)  # again, under the lock: nobody got here first
        layout.recipe_copy.write_text(text, encoding="utf-8")
        write_json_atomic(
            layout.manifest,
            {
                **manifest_head(request, recipe, seed),
                "sites": [
                    {"name": s.name, "folder": f"sites/{s.name}", "seed": site_seed(seed, s.name)}
                    for s in sites
                ],
                **recipe_record(text, recipe),
            },
        )
        request.tell(
            f"run folder: {root}, {len(sites)} sites in {layout.sites} "
            f"(follow it with `fibsims status {root}`)"
        )
        return _run_sites(control, layout, recipe, _Options.of(request), faults)
    finally:
        if not any(layout.site(s.name).manifest.exists() for s in sites):
            _remove_refused(layout, made)  # refused before the first site started
        lock.release()


def _remove_refused(layout: SitesLayout, made: list[Path]) -> None:
    """A run refused before its first site started leaves nothing behind (as a run of one)."""
    for path in (layout.manifest, layout.recipe_copy, layout.folder / OWNER_NAME):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        layout.sites.rmdir()
    (layout.folder / LOCK_NAME).unlink(missing_ok=True)
    for level in made:
        with contextlib.suppress(OSError):
            level.rmdir()


# -- resuming ---------------------------------------------------------------------------------
def _resume_sites(control: RunControl, request: ResumeRequest) -> SitesReport:
    layout = SitesLayout(request.folder)
    lock = RunLock(layout.folder, "resume")
    try:
        lock.acquire()
    except RunLocked as error:
        raise RunFolderError(str(error)) from None
    try:
        manifest = read_sites_manifest(layout)
        recipe = _checked_recipe(layout, manifest)
        state, _ = overall(read_site_states(layout, manifest))
        if state in ("completed", "ended"):
            raise RunFolderError(
                f"every site of the run in {layout.folder} is completed or aborted; there is "
                "nothing to resume (start a new run with `fibsims run`)"
            )
        faults = site_faults(request.faults, recipe)
        options = _Options(
            instrument=manifest.instrument,
            truth=manifest.truth,
            progress=request.progress,
            publish=request.publish,
            publish_keys=request.publish_keys,
            link_keys=request.link_keys,
            max_hours=request.max_hours,
            tell=request.tell,
            recipe_source=str(layout.recipe_copy),
            event_lines=request.event_lines,
        )
        return _run_sites(control, layout, recipe, options, faults, manifest)
    finally:
        lock.release()


def _checked_recipe(layout: SitesLayout, manifest: SitesManifest) -> Recipe:
    """The run's recipe from ``DIR/recipe.yaml``, refused if edited in a way that changes the
    run (as a run of its own refuses it, :mod:`fibsims.service.integrity`)."""
    path = layout.recipe_copy
    restore = "restore it (sites.json keeps the original as recipe_text) and resume again"
    try:
        text = path.read_text(encoding="utf-8")
        recipe = parse_recipe(text, str(path))
    except (OSError, UnicodeDecodeError, RecipeError) as error:
        raise RunFolderError(f"{path} no longer loads ({error}); {restore}") from None
    if manifest.recipe_sha256 in (None, recipe_sha256(text)):
        return recipe
    changes = changed_fields(manifest.recipe_model or {}, recipe.model_dump(mode="json"))
    if changes:
        raise RunFolderError(
            f"{path} was changed since the run started:\n  " + "\n  ".join(changes[:8]) + "\n"
            f"{restore}"
        )
    return recipe


# -- the sites, one after another -------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    """What every site's session shares, from ``run`` or ``resume``."""

    instrument: str
    truth: bool
    progress: bool
    publish: str | None
    publish_keys: Any
    link_keys: Any
    max_hours: float | None
    tell: Callable[[str], None]
    recipe_source: str
    event_lines: TextIO | None = None
    """Where ``--json-events`` writes every site's events (None: nowhere)."""

    @classmethod
    def of(cls, request: RunRequest) -> _Options:
        return cls(
            instrument=request.instrument,
            truth=request.truth,
            progress=request.progress,
            publish=request.publish,
            publish_keys=request.publish_keys,
            link_keys=request.link_keys,
            max_hours=None,
            tell=request.tell,
            recipe_source=str(request.recipe_path),
            event_lines=request.event_lines,
        )


def _run_sites(
    control: RunControl,
    layout: SitesLayout,
    recipe: Recipe,
    options: _Options,
    faults: dict[str, tuple[dict[str, Any], ...]],
    manifest: SitesManifest | None = None,
) -> SitesReport:
    """Run every site not done with, in order, until one does not complete."""
    manifest = manifest or read_sites_manifest(layout)
    sites = recipe.sites or []
    report = SitesReport(status="completed", folder=layout.folder)
    for index, site in enumerate(sites):
        states = read_site_states(layout, manifest)
        here = states[index]
        if here.final:
            continue
        if report.sites:  # a site of this command completed before this one
            if control.pause_requested:
                report.status = "paused"
                report.reason = f"{control.pause_requested}: stopped before site {site.name!r}"
                return report
            control.next_session(f"site {site.name!r} started; the sites before it are complete")
        options.tell(f"site {index + 1}/{len(sites)}: {site.name!r} in {here.layout.folder}")
        placement = _placement(recipe, index, states, options)
        site_report = _run_site(control, here, recipe, site, manifest, options, faults, placement)
        report.sites.append((site.name, site_report))
        if site_report.status != "completed":
            report.status = site_report.status
            report.reason = f"site {site.name!r} ended {site_report.status}" + (
                ": " + str(site_report.summary.get("reason"))
                if site_report.summary.get("reason")
                else ""
            )
            return report
    state, _ = overall(read_site_states(layout, manifest))
    report.status = state
    if state == "ended":
        aborted = [s.name for s in read_site_states(layout, manifest) if s.state == "aborted"]
        report.reason = f"every site ran; aborted: {', '.join(aborted)}"
    return report


def _run_site(
    control: RunControl,
    here: SiteState,
    recipe: Recipe,
    site: Site,
    manifest: SitesManifest,
    options: _Options,
    faults: dict[str, tuple[dict[str, Any], ...]],
    placement: Placement,
) -> RunReport:
    if here.run is not None:  # started before: continue it where it stopped
        resume_request = ResumeRequest(
            folder=here.layout.folder,
            progress=options.progress,
            publish=options.publish,
            publish_keys=options.publish_keys,
            link_keys=options.link_keys,
            max_hours=placement.max_hours,
            tell=options.tell,
            event_lines=options.event_lines,
        )
        return resume_in_folder(control, resume_request, placement, faults[site.name])
    own = recipe.at_site(site)
    text = site_recipe_text(own, site)
    folder = here.layout.folder
    made = [folder.absolute()] if not folder.exists() else []
    if not folder.parent.exists():
        made.append(folder.parent.absolute())
    folder.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        recipe_path=Path(options.recipe_source),
        out=folder,
        instrument=options.instrument,
        progress=options.progress,
        truth=options.truth,
        publish=options.publish,
        publish_keys=options.publish_keys,
        link_keys=options.link_keys,
        tell=options.tell,
        event_lines=options.event_lines,
    )
    seed = next(e.seed for e in manifest.sites if e.name == site.name)
    return start_in_folder(
        control,
        request,
        folder,
        made,
        text=text,
        recipe=parse_recipe(text, f"{folder}/recipe.yaml"),
        seed=seed,
        faults=faults[site.name],
        placement=placement,
    )


def site_recipe_text(own: Recipe, site: Site) -> str:
    """The site's own recipe as YAML (its ``recipe.yaml``): every field spelled out, so the
    site's folder reads as a run of its own and its integrity is checked as one. Nothing in it
    depends on where the recipe was read from, so a site started by ``resume`` has the same
    text (and run.h5) as one started by ``run``."""
    head = (
        f"# Site {site.name!r} of the multi-site recipe {own.recipe!r}: that recipe with this "
        "site's volume\n# and no sites, written by fibsims. The run's recipe is "
        "../../recipe.yaml.\n"
    )
    return head + yaml.safe_dump(own.model_dump(mode="json"), sort_keys=False, width=100)


def _placement(recipe: Recipe, index: int, states: list[SiteState], options: _Options) -> Placement:
    sites = recipe.sites or []
    site = sites[index]
    earlier = states[:index]
    stage = StagePosition(
        x_um=site.stage.x_um,
        y_um=site.stage.y_um,
        z_um=site.stage.z_um,
        tilt_deg=recipe.instrument.stage_tilt_deg,
        rotation_deg=site.stage.rotation_deg,
    )
    return Placement(
        site=site.name,
        at=f"sites.{index}",
        stage=stage,
        start_time_s=max([0.0, *(s.end_t_s for s in earlier)]),
        earlier_uncounted_s=sum(s.run.uncounted_s for s in earlier if s.run is not None),
        record={
            "name": site.name,
            "index": index,
            "sites": len(sites),
            "stage": site.stage.model_dump(mode="json"),
            "run_folder": "../..",
        },
        max_hours=_raised_limit(options.max_hours, states),
        check=whole_run_check(recipe, index),
    )


def _raised_limit(given: float | None, states: list[SiteState]) -> float | None:
    """``--max-hours`` given now, else the latest a session of any site was given: kept for
    later resumes and later sites, as a run of its own keeps it."""
    if given is not None:
        return given
    raised = [s.run.max_hours for s in states if s.run is not None and s.run.max_hours]
    return raised[-1] if raised else None
