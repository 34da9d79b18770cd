"""Radially elongated primary grains: Voronoi cells merged into radial columns of a particle.

Why merging and not a stretched metric: with seeds spread evenly, a Voronoi diagram under any
fixed anisotropic metric is an affine image of an isotropic one, and its cells come out
equiaxed again (stretching the metric along r by a equals compressing the seeds along r by a).
Elongated grains need their seeds grouped instead. Around each particle centre, space is cut
into bins that are ``radial_grain_width_um`` wide across the radius and ``radial_grain_aspect``
times that along it: shells of that length, each cut into an equi-angular cube-sphere grid
whose cells are about one width across at the shell's mid radius. A grain is the union of the
Voronoi cells (:mod:`fibsims_twin.grains`) whose seeds fall into one bin, so it is a column
about a x longer along the radius than across it, with the jagged facets of Voronoi cells.

A boundary exists only between seeds of different bins: where a point's two nearest seeds share
a bin it is inside a grain, and its distance to a boundary is set to ``INTERIOR_UM`` (far
beyond a crack's opening or a depletion length). Everything that reads grains (contrast, Li
offsets, cracks) reads the merged keys, so they act per elongated grain.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims_twin.grains import GrainSample
from fibsims_twin.hashing import hash_keys
from fibsims_twin.parameters import MicrostructureParameters

RADIAL_STREAM = "phantom.radial_grains"
INTERIOR_UM = 1.0  # distance reported inside a merged grain (no boundary between its cells)
MORPHOLOGIES = ("equiaxed", "radial")
KEY_MASK = np.uint64((1 << 62) - 1)  # non-negative int64 keys


def check_morphology(micro: MicrostructureParameters) -> None:
    if micro.primary_morphology not in MORPHOLOGIES:
        raise ValueError(
            f"primary_morphology is {micro.primary_morphology!r}; "
            f"use one of: {', '.join(MORPHOLOGIES)}"
        )


def bin_keys(
    seeds_um: np.ndarray, centres_um: np.ndarray, micro: MicrostructureParameters
) -> np.ndarray:
    """The radial bin (int64 key) of seeds (3, *S) about particle centres (3, *S)."""
    d = seeds_um - centres_um
    r = np.sqrt(np.sum(d * d, axis=0))
    length = micro.radial_grain_aspect * micro.radial_grain_width_um
    shell = np.floor(r / length).astype(np.int64)
    axis = np.argmax(np.abs(d), axis=0)
    major = np.take_along_axis(d, axis[None], 0)[0]
    face = 2 * axis + (major < 0)
    safe = np.where(np.abs(major) > 0, np.abs(major), 1.0)
    first = np.take_along_axis(d, ((axis + 1) % 3)[None], 0)[0] / safe
    second = np.take_along_axis(d, ((axis + 2) % 3)[None], 0)[0] / safe
    across = np.maximum(
        1, np.ceil((shell + 0.5) * length * (0.5 * math.pi) / micro.radial_grain_width_um)
    ).astype(np.int64)

    def cell(t: np.ndarray) -> np.ndarray:
        angle = (np.arctan(t) + 0.25 * math.pi) / (0.5 * math.pi)  # 0..1 over the face
        return np.minimum(np.floor(angle * across).astype(np.int64), across - 1)

    hashed = hash_keys(0, RADIAL_STREAM, shell, face, cell(first), cell(second))
    return (hashed & KEY_MASK).astype(np.int64)


def merge_radially(
    sample: GrainSample, centres_um: np.ndarray, inside: np.ndarray, micro: MicrostructureParameters
) -> GrainSample:
    """``sample`` with the grains of points ``inside`` a particle (bool, shape S; their
    particle centres (3, *S)) merged into radial columns (see the module docstring)."""
    near = bin_keys(sample.near_seed, centres_um, micro)
    after = bin_keys(sample.next_seed, centres_um, micro)
    near_key = np.where(inside, near, sample.near_key)
    next_key = np.where(inside, after, sample.next_key)
    # the distance is signed + on the smaller key's side: re-sign it for the merged keys
    flip = (sample.near_key < sample.next_key) != (near_key < next_key)
    signed = np.where(flip, -sample.signed_um, sample.signed_um)
    interior = inside & (near == after)
    signed = np.where(interior, np.float32(INTERIOR_UM), signed).astype(np.float32)
    return GrainSample(near_key, next_key, sample.near_seed, sample.next_seed, signed)
