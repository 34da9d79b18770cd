"""Where the beam's frame falls on the sample: one rule for scans and patterns.

Why one rule: an image shows the sample around the point the beam addresses, and a pattern mills
the sample around that same point; if the two rules differed, a fiducial would not appear where
it was milled, and a drift correction checked against one would be wrong for the other.

The beam addresses stage + beam shift (x, y). The sample has drifted by d(t) relative to the
beam (:mod:`fibsims_twin.drift`), so the sample point under a beam point is that point less d;
a rotation error e of the stage about an axis at offset o from the field centre moves the
sample under the field by e x (-o_y, o_x). On the slicing axis a beam-frame z (a pattern front)
lands at z - d_z. The sample frame is the phantom's (less its fixed ``origin_offset_um``).
"""

from __future__ import annotations

import numpy as np

from fibsims_twin.parameters import RAD_PER_DEG, StageParameters
from fibsims_twin.state import TwinState


def beam_origin_um(
    state: TwinState, drift_um: np.ndarray, stage: StageParameters
) -> tuple[float, float]:
    """Sample-frame (x, y) of the beam frame's origin, the centre of the field, given the
    drift ``drift_um`` (x, y, z) at that moment."""
    error = state.rotation_error_deg * RAD_PER_DEG
    offset_x, offset_y = stage.rotation_axis_offset_um
    return (
        float(state.stage.x_um + state.beam_shift_um[0] - drift_um[0] - error * offset_y),
        float(state.stage.y_um + state.beam_shift_um[1] - drift_um[1] + error * offset_x),
    )
