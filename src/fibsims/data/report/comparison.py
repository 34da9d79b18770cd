"""The run against the twin's truth: how well it mapped lithium and found particles and cracks.

Why these scores: a twin run is a what-if for the real instrument, so the report says what the
settings bought: the Li map's correlation with the true Li fraction over every pixel (mostly
solid against epoxy), over the pixels of the active material only (the heterogeneity a
scientist is after, where shot noise bites), and particle by particle; the Dice overlap of the
segmented particles with the truth's (in 3D on the grid, and at full resolution on the sampled
slices); and the share of the true crack area the segmentation found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fibsims.data.report.cracks import CrackSurvey
from fibsims.data.report.particles import Particle
from fibsims.data.report.segment import Phases
from fibsims.data.report.stacks import Stacks
from fibsims.data.report.stats import Overlap, pearson


@dataclass(frozen=True)
class Score:
    name: str
    value: float | None
    meaning: str


def _dice(found: np.ndarray, true: np.ndarray) -> float | None:
    overlap = Overlap()
    overlap.add(found, true)
    return overlap.dice


def compare(
    stacks: Stacks,
    found: Phases | None,
    true: Phases | None,
    particles: list[Particle],
    survey: CrackSurvey | None,
) -> list[Score]:
    """Every score the run's truth allows; empty when it recorded none."""
    scores: list[Score] = []
    if stacks.li_vs_truth is not None:
        scores.append(
            Score(
                "7Li+ vs true Li fraction, every pixel (Pearson r)",
                stacks.li_vs_truth.r,
                "every SIMS pixel of every slice: solid against epoxy, mostly",
            )
        )
    if stacks.li_vs_truth_nmc is not None:
        scores.append(
            Score(
                "7Li+ vs true Li fraction, within particles (Pearson r)",
                stacks.li_vs_truth_nmc.r,
                "pixels the truth calls NMC811 only: the heterogeneity, against shot noise",
            )
        )
    truth = [p for p in particles if p.li_true is not None and np.isfinite(p.li_true)]
    if len(truth) >= 3:
        scores.append(
            Score(
                "7Li+ vs true Li, per particle mean (Pearson r)",
                pearson(
                    np.array([p.li_counts for p in truth]),
                    np.array([p.li_true for p in truth], dtype=np.float64),
                ),
                f"{len(truth)} particles: does the map rank them right",
            )
        )
    if found is not None and true is not None:
        scores.append(
            Score(
                "particles, 3D Dice",
                _dice(found.particles, true.particles),
                "segmented particles against the truth's, on the analysis grid",
            )
        )
        scores.append(
            Score(
                "active material (NMC811), 3D Dice",
                _dice(found.nmc, true.nmc),
                "solid NMC811 voxels against the truth's",
            )
        )
    if survey is not None and survey.particles is not None and survey.cracks is not None:
        sampled = f"{len(survey.slices)} slices at full resolution"
        scores += [
            Score("particles, Dice at full resolution", survey.particles.dice, sampled),
            Score(
                "cracks found (recall)",
                survey.cracks.recall,
                "share of the true crack and internal-pore area (epoxy inside particles) "
                "found, " + sampled,
            ),
            Score(
                "cracks, precision",
                survey.cracks.precision,
                "share of what was taken for crack that is crack in truth",
            ),
            Score("cracks, Dice", survey.cracks.dice, sampled),
            Score("crack share of particle area, found", survey.crack_share, sampled),
            Score("crack share of particle area, true", survey.true_crack_share, sampled),
        ]
    return scores
