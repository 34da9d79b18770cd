"""Everything the report measures, in order: read, segment, assign lithium, survey cracks, score.

Why one place for the order: each step feeds the next (the SE thresholds feed the crack survey,
the particle labels feed the lithium table), and the figures and the page only draw what this
returns; nothing here draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fibsims.data.report.comparison import Score, compare
from fibsims.data.report.cracks import CrackSurvey, sample_slices, survey_cracks
from fibsims.data.report.grid import pixel_um
from fibsims.data.report.particles import (
    DepthProfile,
    Particle,
    depth_profile,
    particle_table,
    sample_on_li,
)
from fibsims.data.report.progress import Progress
from fibsims.data.report.segment import (
    Particles,
    Phases,
    Thresholds,
    label_particles,
    phases_of_shares,
    phases_of_truth,
)
from fibsims.data.report.sources import Sources
from fibsims.data.report.stacks import Stacks, Volume, read_stacks
from fibsims.data.report.views import Depths, choose_depths
from fibsims.data.run_reader import RunData


@dataclass
class Analysis:
    sources: Sources
    stacks: Stacks
    depths: Depths
    thresholds: Thresholds | None = None
    found: Phases | None = None
    true: Phases | None = None
    particles: Particles | None = None
    table: list[Particle] = field(default_factory=list)
    profile: DepthProfile | None = None
    survey: CrackSurvey | None = None
    scores: list[Score] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def voxel_um(volume: Volume) -> tuple[float, float, float]:
    """(z, y, x) size of a grid voxel; z the median plane pitch."""
    z = volume.z_um[np.isfinite(volume.z_um)]
    dz = float(np.median(np.diff(z))) if z.size > 1 else pixel_um(volume.x_um)
    return (dz if dz > 0 else pixel_um(volume.x_um), pixel_um(volume.y_um), pixel_um(volume.x_um))


def _segment(analysis: Analysis, progress: Progress) -> None:
    se = analysis.stacks.se
    assert se is not None
    analysis.thresholds = analysis.stacks.thresholds
    share = analysis.stacks.nmc_share
    if analysis.thresholds is None or share is None:
        analysis.notes.append("The SE image has too little contrast to segment particles.")
        return
    progress("segmenting particles", 0, 1)
    pixel = pixel_um(se.x_um)
    analysis.found = phases_of_shares(share.data, pixel)
    truth = analysis.stacks.truth_nmc
    if truth is not None:
        nmc = np.nan_to_num(truth.data) > 0.5
        analysis.true = phases_of_truth(nmc, np.zeros_like(nmc), pixel)
    analysis.particles = label_particles(
        analysis.found.particles, voxel_um(se), unknown=~np.isfinite(se.data)
    )
    progress("segmenting particles", 1, 1)


def _lithium(analysis: Analysis) -> None:
    stacks, particles, found = analysis.stacks, analysis.particles, analysis.found
    if stacks.li is None or stacks.se is None or particles is None or found is None:
        return
    sampled = sample_on_li(particles, found.nmc, stacks.se, stacks.li, stacks.truth_li)
    analysis.table = particle_table(particles, sampled, stacks.se)
    analysis.profile = depth_profile(sampled)


def analyse(run: RunData, sources: Sources, progress: Progress) -> Analysis:
    stacks = read_stacks(run, sources, progress)
    analysis = Analysis(sources, stacks, choose_depths(stacks, run.missing))
    if stacks.se is not None and sources.image is not None:
        _segment(analysis, progress)
        _lithium(analysis)
        if analysis.thresholds is not None:
            slices = sorted(set(sample_slices(run.missing)) | set(analysis.depths.slices))
            analysis.survey = survey_cracks(
                run, sources.image, analysis.thresholds, slices, progress
            )
    analysis.scores = compare(
        stacks, analysis.found, analysis.true, analysis.table, analysis.survey
    )
    return analysis
