"""Curtaining: vertical stripes of SE contrast left by differential milling.

docs/physics.md: curtaining gets worse in PFIB on inhomogeneous materials; differential milling is
what makes curtains; they run along the milling direction (down the face, +y). The stripes are
the topography of the face, so the SE image sees them through the local slope of the surface.

Profile across the face (ASSUMED shape, calibrated amplitude):
- differential part: the face recedes faster below material that mills faster (epoxy, CBD) than
  NMC, so the depth profile follows the share of fast material up each column, h(x) ~ mean over
  y of (Yv(phase) / Yv(NMC) - 1); the image sees its slope across x at the stripe width;
- random part: stripes seeded by the sample's top surface and protective layer, a smooth
  random profile of the stripe width in sample coordinates (so it drifts with the sample and
  persists from slice to slice, as real curtains do).
Both are normalised to unit rms, mixed by ``curtain_differential_share`` and scaled by the
severity left on the face (:func:`fibsims_twin.milling.curtain_severity`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from fibsims_twin.hashing import uniform
from fibsims_twin.parameters import MillingParameters

STRIPE_STREAM = "phantom.top_surface_stripes"
SQRT3 = math.sqrt(3.0)
FLAT_PROFILE_RMS = 1e-9  # numerical: below this a profile is flat and contributes nothing


def _unit_rms(profile: np.ndarray) -> np.ndarray:
    centred = profile - profile.mean()
    rms = float(np.sqrt(np.mean(centred * centred)))
    return centred / rms if rms > FLAT_PROFILE_RMS else np.zeros_like(centred)


def random_stripes(seed: int, x_um: np.ndarray, width_um: float) -> np.ndarray:
    """A smooth random profile at sample positions ``x_um``: value noise on knots ``width``
    apart, interpolated linearly (zero mean, unit variance at the knots)."""
    knots = np.floor(x_um / width_um).astype(np.int64)
    frac = x_um / width_um - knots
    left = SQRT3 * (2 * uniform(seed, STRIPE_STREAM, knots) - 1)
    right = SQRT3 * (2 * uniform(seed, STRIPE_STREAM, knots + 1) - 1)
    return (1 - frac) * left + frac * right


def curtain_profile(
    fast_share: np.ndarray,
    x_um: np.ndarray,
    sample_seed: int,
    severity: float,
    p: MillingParameters,
) -> np.ndarray:
    """Relative SE modulation per column (W,), float32.

    ``fast_share`` (W,) is the mean over each column of Yv(phase) / Yv(NMC) - 1; ``x_um`` the
    columns' sample positions.
    """
    if severity <= 0 or x_um.size < 2:
        return np.zeros(x_um.size, dtype=np.float32)
    pitch = float(np.median(np.diff(x_um)))
    smoothing_px = max(p.curtain_stripe_width_um / pitch, 0.5)
    slope = np.gradient(ndimage.gaussian_filter1d(fast_share.astype(np.float64), smoothing_px))
    share = p.curtain_differential_share
    mixed = share * _unit_rms(slope) + (1 - share) * _unit_rms(
        random_stripes(sample_seed, x_um, p.curtain_stripe_width_um)
    )
    return (severity * _unit_rms(mixed)).astype(np.float32)
