"""The SE detector's video amplifier: contrast and brightness as gain and offset.

Why: vendors expose the detector's contrast and brightness as 0..1 knobs, and an engine that
keeps its images in range (or a fiducial's edges visible) turns them. Behind the knobs sit the
gain and the black level of the amplifier that turns detected electrons into image counts, so
the twin applies them there: counts = gain x (detected electrons + amplifier noise) + offset,
rounded and clipped to the image's range (the top clip reported as saturation, as before).

Mapping (ASSUMED, no public figure; ``DetectorParameters``): gain = 2^((contrast - c0) x k), so
each 1/k of the contrast range doubles the gain, and offset = (brightness - b0) x full scale,
in whole counts (a black level).
At contrast c0 and brightness b0 (the settings the detector opens at) the gain is exactly 1
and the offset exactly 0, and the image is the count itself, byte for byte.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims.instrument import InstrumentError
from fibsims_twin.parameters import DetectorParameters

SETTING_MIN = 0.0
SETTING_MAX = 1.0


def check_setting(name: str, value: float) -> float:
    """A contrast or brightness setting as a float in 0..1, or an InstrumentError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InstrumentError(f"SE detector {name} {value!r} must be a number from 0 to 1")
    if not SETTING_MIN <= value <= SETTING_MAX:
        raise InstrumentError(
            f"SE detector {name} {value!r} is outside 0..1 (0 lowest, 1 highest, as the "
            "vendor's control)"
        )
    return float(value)


def gain(contrast: float, p: DetectorParameters) -> float:
    """Amplifier gain at ``contrast``: 2^((contrast - c0) x k); exactly 1 at c0."""
    return 2.0 ** ((contrast - p.contrast_at_unit_gain) * p.contrast_gain_doublings)


def offset_counts(brightness: float, p: DetectorParameters) -> int:
    """Black-level offset at ``brightness``: (brightness - b0) x full scale in whole counts;
    exactly 0 at b0."""
    return round((brightness - p.brightness_at_zero_offset) * p.max_counts)


def amplify(counts: np.ndarray, contrast: float, brightness: float, p: DetectorParameters) -> None:
    """Apply gain and offset to ``counts`` (float, in place) and round to whole counts at or
    above 0; at unit gain and zero offset nothing is touched."""
    g, b = gain(contrast, p), offset_counts(brightness, p)
    if g == 1.0 and b == 0.0:
        return
    counts *= counts.dtype.type(g)
    counts += counts.dtype.type(b)
    np.rint(counts, out=counts)
    np.maximum(counts, 0, out=counts)
