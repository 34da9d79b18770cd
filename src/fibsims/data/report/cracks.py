"""Cracks, looked for at full SE resolution on a sample of slices.

Why a sample: the cracks of the phantom are 40 nm wide, three SE pixels on the default recipe
and nothing on the analysis grid, and full-resolution segmentation costs about 0.4 s a slice;
a dozen slices spread over the stack measure the share of the particles' sections that is
cracked (and, on twin runs, how much of the true crack area was found) in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fibsims.data.report.progress import Progress
from fibsims.data.report.segment import Phases, Thresholds, phases_of_se, phases_of_truth
from fibsims.data.report.stacks import spread
from fibsims.data.report.stats import Overlap
from fibsims.data.run_reader import RunData

SAMPLED_SLICES = 12
EPOXY, NMC = 0, 1  # the truth's labels


def sample_slices(missing: np.ndarray, count: int = SAMPLED_SLICES) -> list[int]:
    """Up to ``count`` slices with data, evenly spread over the stack."""
    return spread(missing, count)


@dataclass
class SlicePhases:
    """One slice's segmentation (and the truth's) at full resolution, for the figures."""

    index: int
    image: np.ndarray
    found: Phases
    true: Phases | None


@dataclass
class CrackSurvey:
    slices: list[int]
    crack_share: float | None
    """Crack (epoxy) area over particle area in the sampled sections."""
    true_crack_share: float | None = None
    particles: Overlap | None = None
    """Particle sections found against the truth's (twin runs)."""
    cracks: Overlap | None = None
    """Crack pixels found against the truth's (twin runs)."""
    shown: SlicePhases | None = field(default=None, repr=False)
    """The sampled slice with the most crack area found, drawn by the figures."""


def survey_cracks(
    run: RunData, image: str, thresholds: Thresholds, slices: list[int], progress: Progress
) -> CrackSurvey:
    """Segment each of ``slices`` at full resolution; score it when the run has truth."""
    data = run.image(image)
    pixel_um = run.field(image).pixel_size_nm / 1000.0
    labels = run.truth(image).get("labels")
    found_area = crack_area = true_area = true_crack_area = 0
    particles = Overlap() if labels is not None else None
    cracks = Overlap() if labels is not None else None
    shown: SlicePhases | None = None
    for n, i in enumerate(slices):
        progress("cracks at full resolution", n, len(slices))
        se = np.asarray(data[i], dtype=np.float32)
        found = phases_of_se(se, thresholds, pixel_um)
        found_area += int(found.particles.sum())
        crack_area += int(found.cracks.sum())
        true = None
        if labels is not None and particles is not None and cracks is not None:
            truth = np.asarray(labels[i])
            true = phases_of_truth(truth == NMC, truth == EPOXY, pixel_um)
            particles.add(found.particles, true.particles)
            cracks.add(found.cracks, true.cracks)
            true_area += int(true.particles.sum())
            true_crack_area += int(true.cracks.sum())
        if shown is None or found.cracks.sum() > shown.found.cracks.sum():
            shown = SlicePhases(i, se, found, true)
    progress("cracks at full resolution", len(slices), len(slices))
    return CrackSurvey(
        slices=slices,
        crack_share=crack_area / found_area if found_area else None,
        true_crack_share=true_crack_area / true_area if true_area else None,
        particles=particles,
        cracks=cracks,
        shown=shown,
    )
