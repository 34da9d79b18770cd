"""Lithium per particle: the histogram of particle means, the profile from the surface inwards,
and (twin runs) each particle's measured mean against its true one.

Why these three: the histogram is the particle-to-particle heterogeneity (state of charge per
particle), the depth profile the heterogeneity within particles (core-shell gradients, loss at
the surface and along cracks), and the scatter says whether the instrument ranked the particles
right, which is what a what-if run on the twin is for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fibsims.data.report.figures import style
from fibsims.data.report.particles import DepthProfile, Particle
from fibsims.data.report.stats import pearson

BAR_COLOUR = "#d9782d"
TRUE_COLOUR = "#2b6cb0"


def draw(
    particles: list[Particle],
    profile: DepthProfile | None,
    folder: Path,
    name: str,
    title: str,
    caption: str,
) -> style.Saved:
    truth = [p for p in particles if p.li_true is not None and np.isfinite(p.li_true)]
    panels = 2 + (1 if len(truth) >= 2 else 0)
    with style.look():
        fig = style.figure(3.7 * panels, 3.6)
        axes = fig.subplots(1, panels)
        means = np.array([p.li_counts for p in particles])
        cut = sum(p.cut for p in particles)
        axes[0].hist(
            means, bins=max(5, min(30, len(means) // 2)), color=BAR_COLOUR, edgecolor="white"
        )
        axes[0].set_xlabel("mean 7Li+ counts per pixel")
        axes[0].set_ylabel("particles")
        axes[0].set_title(f"{len(particles)} particles ({cut} cut by the volume's edge)")
        ax = axes[1]
        if profile is not None and profile.depth_um.size:
            ax.plot(profile.depth_um, profile.li_counts, "o-", color=BAR_COLOUR, ms=3, label="7Li+")
            ax.set_ylabel("mean 7Li+ counts per pixel", color=BAR_COLOUR)
            if profile.li_true is not None:
                twin = ax.twinx()
                twin.plot(profile.depth_um, profile.li_true, "s--", color=TRUE_COLOUR, ms=3)
                twin.set_ylabel("true Li atomic fraction", color=TRUE_COLOUR)
        ax.set_xlabel("depth below the particle surface (um)")
        ax.set_title("from the surface inwards")
        if panels == 3:
            ax = axes[2]
            measured = np.array([p.li_counts for p in truth])
            true = np.array([p.li_true for p in truth], dtype=np.float64)
            ax.scatter(
                true,
                measured,
                s=[max(8.0, p.volume_um3 / 4) for p in truth],
                c=BAR_COLOUR,
                edgecolors="black",
                linewidths=0.5,
            )
            r = pearson(true, measured)
            ax.set_title("per particle vs truth" + (f" (r = {r:.3f})" if r is not None else ""))
            ax.set_xlabel("true mean Li atomic fraction")
            ax.set_ylabel("mean 7Li+ counts per pixel")
        fig.suptitle(title, fontsize=11)
        return style.save(fig, folder, name, title, caption)
