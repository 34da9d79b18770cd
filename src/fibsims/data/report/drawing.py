"""Which figures the report draws from an analysis, with the captions that say what they show.

Why the captions live with the calls: a caption must name what the figure's data really are
(which slices were averaged, what was smoothed, where a field ends), and that is decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fibsims.data.report.analysis import Analysis
from fibsims.data.report.figures import cutaway, lithium, orthoslices, overlay, segmentation
from fibsims.data.report.figures import timing as timing_figures
from fibsims.data.report.figures import truth as truth_figure
from fibsims.data.report.figures.orthoslices import Plane
from fibsims.data.report.figures.style import Saved, limits
from fibsims.data.report.grid import nearest_indices
from fibsims.data.report.progress import Progress
from fibsims.data.report.reconstructed import read_reconstructed
from fibsims.data.report.sources import LI_PEAK
from fibsims.data.report.timing import Timing
from fibsims.data.report.views import li_views, se_views, smoothed
from fibsims.data.run_reader import RunData

MAX_PAIRS = 2_000_000

SECTIONS = ("volume", "overlay", "cutaway", "particles", "truth", "time")


@dataclass
class Drawn:
    """The figures by page section, and what a section must say about a figure it lacks."""

    figures: dict[str, list[Saved]] = field(default_factory=lambda: {s: [] for s in SECTIONS})
    notes: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in SECTIONS})

    def __getitem__(self, section: str) -> list[Saved]:
        return self.figures[section]


def _li_binning(analysis: Analysis) -> str:
    k = analysis.stacks.binning.z
    return "each plane the mean of one slice" if k == 1 else f"each plane the mean of {k} slices"


def _volume(run: RunData, analysis: Analysis, folder: Path, out: Drawn) -> None:
    stacks, sources = analysis.stacks, analysis.sources
    cuts = None
    if stacks.se is not None and sources.image:
        views = se_views(run, sources.image, stacks, analysis.depths)
        cuts = (views.x_cut_um, views.y_cut_um)
        look = orthoslices.Look("gray", "SE counts", limits(views.xy[len(views.xy) // 2][1].data))
        out.figures["volume"].append(
            orthoslices.draw(
                views,
                look,
                folder,
                "se_orthoslices.png",
                "SE volume: orthoslices",
                "Ion-induced SE image at full resolution. Top: the imaged face at three depths. "
                "Bottom: sections across the stack, one row per slice at its measured face "
                "position (z). Epoxy (pores, cracks) is dark, NMC811 grey with its grains, the "
                "carbon-binder domain bright. Dashed lines: where the other panels cut.",
            )
        )
    if stacks.li is not None:
        views = li_views(stacks, analysis.depths, cuts)
        data = smoothed(stacks.li)
        look = orthoslices.Look("inferno", "7Li+ counts per pixel", limits(data, 1, 99.5))
        out.figures["volume"].append(
            orthoslices.draw(
                views,
                look,
                folder,
                "li_orthoslices.png",
                "7Li+ volume: orthoslices",
                f"7Li+ counts per SIMS pixel, {_li_binning(analysis)}, smoothed by a 0.7-pixel "
                "Gaussian for display; the same depths and sections as the SE figure. The raster's "
                "field can be taller than the SE image's. Particles differ in lithium from one to "
                "the next; dark lines within them are lithium lost along cracks.",
            )
        )


def _overlay(run: RunData, analysis: Analysis, folder: Path, out: Drawn) -> None:
    stacks, image = analysis.stacks, analysis.sources.image
    if stacks.li is None or stacks.se is None or image is None:
        return
    se = se_views(run, image, stacks, analysis.depths)
    li = li_views(stacks, analysis.depths, (se.x_cut_um, se.y_cut_um))
    middle = len(se.xy) // 2
    z, face = se.xy[middle]
    out.figures["overlay"].append(
        overlay.draw(
            overlay.Face(face, li.xy[middle][1], z),
            folder,
            "li_on_se.png",
            "7Li+ on SE overlay",
            "The 7Li+ map of the middle face resampled onto the SE image's pixels from the stored "
            "geometry (the two fields share their centre), coloured over the range of the solid "
            "and made transparent where there is no lithium (epoxy), over the grey SE image.",
        )
    )


def _cutaway(run: RunData, analysis: Analysis, folder: Path, out: Drawn) -> None:
    stacks = analysis.stacks
    if stacks.li is None:
        return
    found = read_reconstructed(run.path.parent, LI_PEAK)
    if found.note:
        out.notes["cutaway"].append(found.note)
    volume = found.volume or stacks.li
    if min(volume.data.shape) < 2:
        out.notes["cutaway"].append("A single plane has no inside to cut away: no 3D figure.")
        return
    data = smoothed(volume)
    colour = overlay.colour_limits(data)
    floor = overlay.SOLID * limits(data, 1, 99.5)[1]
    box = cutaway.Box(data, volume.x_um, volume.y_um, volume.z_um)
    out.figures["cutaway"].append(
        cutaway.draw(
            box,
            colour,
            floor,
            "7Li+ counts per pixel",
            folder,
            "li_cutaway.png",
            "7Li+ volume: 3D cut-away",
            "The 7Li+ volume as a box with the octant nearest the viewer removed: the outer faces "
            "and the three faces of the cut, in block means of the map. Grey: no lithium (epoxy "
            f"between the particles). Drawn from {found.source}.",
        )
    )


def _face_axes(run: RunData, analysis: Analysis, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The full-resolution x and y of slice ``index``'s SE field."""
    assert analysis.sources.image is not None
    field = run.field(analysis.sources.image)
    return field.x_um(index), field.y_um(index)


def _particles(run: RunData, analysis: Analysis, folder: Path, out: Drawn) -> None:
    stacks, particles, survey = analysis.stacks, analysis.particles, analysis.survey
    if particles is None or stacks.se is None or survey is None or survey.shown is None:
        return
    shown, se = survey.shown, stacks.se
    plane = next(g for g, members in enumerate(stacks.groups) if shown.index in members)
    sections = stacks.sections
    assert sections is not None
    x_full, y_full = _face_axes(run, analysis, shown.index)
    rows, rows_in = nearest_indices(se.y_um, y_full)
    cols, cols_in = nearest_indices(se.x_um, x_full)
    labels = particles.labels[plane][np.ix_(rows, cols)]
    labels = np.where(shown.found.particles & rows_in[:, None] & cols_in[None, :], labels, 0)
    row = int(np.argmin(np.abs(se.y_um - sections.y_cut_um)))
    views = segmentation.SegmentationViews(
        face=Plane(shown.image, x_full, y_full),
        labels=labels,
        cracks=shown.found.cracks,
        z_um=float(sections.z_um[shown.index]),
        section=Plane(particles.labels[:, row, :], se.x_um, se.z_um),
    )
    out.figures["particles"].append(
        segmentation.draw(
            views,
            particles.count,
            folder,
            "segmentation.png",
            "Particles and cracks found",
            "Segmented from the SE image alone, pixel by pixel at its own resolution: "
            "three-class Otsu thresholds (epoxy, NMC811, binder); a particle is where most of "
            "a 0.2 um neighbourhood is NMC811 grey (the binder's nanoporous texture is bright "
            "and dark, not grey), with its cracks and pores filled, split one from another by "
            "a watershed of the distance to their surface (in 3D). Cracks (cyan) are dark "
            "lines and pores inside a particle (darker than the grains around them), at full "
            "resolution; this is the sampled face with the most.",
        )
    )
    if analysis.table:
        out.figures["particles"].append(
            lithium.draw(
                analysis.table,
                analysis.profile,
                folder,
                "li_per_particle.png",
                "Lithium per particle",
                "Left: mean 7Li+ counts per SIMS pixel of each particle's solid (one pixel in from "
                "its edges); a particle cut by the volume's edge is measured on its part inside. "
                "Middle: mean 7Li+ against depth below the particle surface, over all particles"
                + (
                    " (dashed: the truth)"
                    if analysis.profile and analysis.profile.li_true is not None
                    else ""
                )
                + ". Right (twin runs): each particle's mean against its true mean Li fraction, "
                "marker size by volume.",
            )
        )


def _truth(run: RunData, analysis: Analysis, folder: Path, out: Drawn) -> None:
    stacks, survey = analysis.stacks, analysis.survey
    if stacks.li is None or stacks.truth_li is None or survey is None or survey.shown is None:
        return
    if survey.shown.true is None or stacks.sections is None:
        return
    counts, true = stacks.li.data.ravel(), stacks.truth_li.data.ravel()
    keep = np.flatnonzero(np.isfinite(counts) & np.isfinite(true))
    keep = keep[:: max(1, keep.size // MAX_PAIRS)]
    x_full, y_full = _face_axes(run, analysis, survey.shown.index)
    out.figures["truth"].append(
        truth_figure.draw(
            truth_figure.Pairs(counts[keep], true[keep], stacks.binning.z),
            survey.shown,
            x_full,
            y_full,
            float(stacks.sections.z_um[survey.shown.index]),
            folder,
            "truth.png",
            "Against the twin's truth",
            "Left: 7Li+ counts of every SIMS pixel against the true Li atomic fraction there "
            "(log colour). Middle and right: the particles and the cracks found on one face "
            "against the truth's: green both, orange found only, blue truth only.",
        )
    )


def _time(timing: Timing, incident_slices: list[int], folder: Path, out: Drawn) -> None:
    out.figures["time"].append(
        timing_figures.draw_budget(
            timing,
            folder,
            "time_budget.png",
            "Time budget",
            "Instrument time by step kind over the whole run (every session).",
        )
    )
    out.figures["time"].append(
        timing_figures.draw_timeline(
            timing,
            incident_slices,
            folder,
            "timeline.png",
            "Time line",
            "Top: each slice's instrument time stacked by step kind (scheduled autofocus and "
            "contrast show as spikes), red marks where a step was retried, skipped or held; the "
            "black line is when each slice started. Bottom: the first slices step by step.",
        )
    )


def draw_all(
    run: RunData,
    analysis: Analysis,
    timing: Timing,
    incident_slices: list[int],
    folder: Path,
    progress: Progress,
) -> Drawn:
    """Every figure the run's data allow, by page section."""
    out = Drawn()
    steps: list[Callable[[], None]] = [
        lambda: _volume(run, analysis, folder, out),
        lambda: _overlay(run, analysis, folder, out),
        lambda: _cutaway(run, analysis, folder, out),
        lambda: _particles(run, analysis, folder, out),
        lambda: _truth(run, analysis, folder, out),
        lambda: _time(timing, incident_slices, folder, out),
    ]
    for n, step in enumerate(steps):
        progress("drawing figures", n, len(steps))
        step()
    progress("drawing figures", len(steps), len(steps))
    return out
