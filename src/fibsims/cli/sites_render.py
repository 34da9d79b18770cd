"""Printing a multi-site run: its report after ``run``/``resume`` and its ``status``."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from fibsims.cli.render import render_run_report, render_status
from fibsims.service.runs import RunReport
from fibsims.service.sites import SitesReport


def render_any_report(console: Console, report: RunReport | SitesReport) -> None:
    if isinstance(report, SitesReport):
        render_sites_report(console, report)
    else:
        render_run_report(console, report)


def render_sites_report(console: Console, report: SitesReport) -> None:
    """Each site this command ran, as a run of its own, then the run as a whole."""
    for name, site in report.sites:
        console.print(f"site {name}:", markup=False)
        render_run_report(console, site)
    console.print(f"run {report.status}: {report.folder}", markup=False)
    if report.reason:
        console.print(f"reason: {report.reason}", markup=False)
    if not report.ok:
        console.print(f"`fibsims status {report.folder}` shows every site", markup=False)


def render_any_status(console: Console, status: dict[str, Any]) -> None:
    if "sites" in status:
        render_sites_status(console, status)
    else:
        render_status(console, status)


def render_sites_status(console: Console, status: dict[str, Any]) -> None:
    done, planned = status["slices_completed"], status["slices_planned"]
    lines = [
        f"run:        {status['folder']}  (recipe {status['recipe']}, seed {status['seed']}, "
        f"instrument {status['instrument']}, {len(status['sites'])} sites)",
        f"state:      {status['state']}"
        + (f" at site {status['site']}" if status.get("site") else ""),
        f"progress:   {done}/{planned} slices ({status['progress']:.0%})",
    ]
    width = max(len(site["name"]) for site in status["sites"])
    for site in status["sites"]:
        line = (
            f"  {site['name']:<{width}}  {site['state']:<11} "
            f"{site['slices_completed']}/{site['slices_planned']} slices"
        )
        if site.get("slices_missing"):
            line += f", missing {site['slices_missing']}"
        lines.append(line)
    if status.get("reason"):
        lines.append(f"why:        {status['reason']}")
    if status.get("next"):
        lines.append(f"next:       {status['next']}")
    for line in lines:
        console.print(line, markup=False)
