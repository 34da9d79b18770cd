"""``fibsims status``, ``abort`` and ``pause`` of a multi-site run folder.

Status reads every site's folder as ``fibsims status`` reads a run of its own
(:func:`~fibsims.service.status.run_status`) and adds up the progress. Abort gives up the site
being worked on (or the first one not finished), through that site's folder, so the run stops
there as any run stops on an abort; ``fibsims resume DIR`` would then go on with the next site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fibsims.service.folder import RunFolderError
from fibsims.service.sites_folder import (
    SitesLayout,
    SitesManifest,
    SiteState,
    is_sites_folder,
    overall,
    read_site_states,
    read_sites_manifest,
)
from fibsims.service.status import abort_run, pause_run, run_status

SITE_FIELDS = (
    "state",
    "reason",
    "slices_completed",
    "slices_planned",
    "progress",
    "slices_missing",
    "process_alive",
    "current_step",
    "instrument_time_s",
    "beam_blanked",
)
NEXT = {
    "completed": "",
    "ended": "",
    "running": "wait, watch, or pause: Ctrl-C in its terminal, or fibsims pause {folder}",
    "preflight": "wait",
    "idle": "wait",
    "finalizing": "wait: the site's run.h5 is being written",
    "failed": "fibsims resume {folder} (after fixing the reason above), or fibsims abort {folder}",
}


def status(folder: Path) -> dict[str, Any]:
    """``fibsims status`` of any run folder: a multi-site run's, or a run of its own."""
    return sites_status(folder) if is_sites_folder(folder) else run_status(folder)


def abort(folder: Path) -> dict[str, Any]:
    """``fibsims abort`` of any run folder; in a multi-site run, of the site it stands at."""
    if not is_sites_folder(folder):
        return abort_run(folder)
    return abort_run(_site_under_way(folder, "abort"))


def pause(folder: Path) -> dict[str, Any]:
    """``fibsims pause`` of any run folder; in a multi-site run, of the site under way (the
    run stops there, as on Ctrl-C; ``fibsims resume DIR`` goes on)."""
    if not is_sites_folder(folder):
        return pause_run(folder)
    pause_run(_site_under_way(folder, "pause"))
    return sites_status(folder)


def _site_under_way(folder: Path, verb: str) -> Path:
    """The run folder of the multi-site run's site under way; else a RunFolderError saying
    there is nothing to ``verb``."""
    layout = SitesLayout(folder)
    state, at = overall(read_site_states(layout, read_sites_manifest(layout)))
    if at is None or at.run is None:
        where = "no site is under way" if at is None else f"site {at.name!r} has not started"
        raise RunFolderError(
            f"the run in {folder} is {state} and {where}: there is nothing to {verb}"
        )
    return at.layout.folder


def sites_status(folder: Path) -> dict[str, Any]:
    """How a multi-site run stands: the run as a whole, then each site in run order."""
    layout = SitesLayout(folder)
    manifest = read_sites_manifest(layout)
    states = read_site_states(layout, manifest)
    state, at = overall(states)
    sites = [_site(layout, manifest, s) for s in states]
    done = sum(int(s["slices_completed"]) for s in sites)
    planned = sum(int(s["slices_planned"]) for s in sites)
    if at is not None and at.run is None:
        reason = f"stopped between sites: site {at.name!r} has not started"
    elif at is not None:
        reason = f"site {at.name!r}: {sites[at.index]['reason']}".rstrip(": ")
    else:
        aborted = [s.name for s in states if s.state == "aborted"]
        reason = f"aborted sites: {', '.join(aborted)}" if aborted else ""
    return {
        "folder": str(folder),
        "recipe": manifest.recipe,
        "seed": manifest.seed,
        "instrument": manifest.instrument,
        "state": state,
        "site": at.name if at is not None else None,
        "reason": reason,
        "slices_completed": done,
        "slices_planned": planned,
        "progress": round(done / planned, 4) if planned else 0.0,
        "sites": sites,
        "next": NEXT.get(state, "fibsims resume {folder}").format(folder=folder),
    }


def _site(layout: SitesLayout, manifest: SitesManifest, site: SiteState) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": site.name, "folder": str(site.layout.folder)}
    if site.run is not None:
        found = run_status(site.layout.folder)
        return entry | {key: found.get(key) for key in SITE_FIELDS}
    planned = _planned(manifest, site.index)
    return entry | {
        "state": "pending",
        "reason": "",
        "slices_completed": 0,
        "slices_planned": planned,
        "progress": 0.0,
        "slices_missing": [],
        "process_alive": False,
    }


def _planned(manifest: SitesManifest, index: int) -> int:
    """A pending site's slices, from the recipe sites.json recorded (0 if unreadable)."""
    model = manifest.recipe_model or {}
    try:
        site = model["sites"][index]
        volume = site.get("volume") or model["volume"]
        return int(volume["slices"])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return 0
