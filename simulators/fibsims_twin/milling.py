"""Where a pattern leaves the face, how deep a scan sputters, and how curtained the face is.

Why a module: the column's mill, the detector's image and the spectrometer's raster all move
the face of the sample, and the curtains they image depend on how it was milled.

Faces (see :class:`~fibsims_twin.state.TwinState` for the two depths):
- A *cut* is a pattern whose front lies beyond the previous pattern's (a new slice), or the
  first pattern of a session. The face
  then stands at front - z drift(t) + placement error in the sample, whatever it was before:
  the slice thickness error is the difference of two such terms (a few nm). Re-establishing the
  face at every cut is also what lets a fresh twin opened to resume a run see the very face an
  uninterrupted one sees (it cannot know what earlier scans sputtered). The twin assumes a cut
  removes what the previous slice's scans sputtered; a SIMS raster that sputters deeper than
  one slice would in reality leave the face deeper (see docs/physics.md).
- A *polish* is a pattern at the same front: it can only deepen the face, and it records the
  true stage rotation it milled at. A pattern behind the last front touches nothing.
- A scan (image, raster, focus sweep) sputters dose / area x Yv (the NMC rate, as the column
  times patterns) and deepens the face by that much.

Curtains: differential milling leaves stripes along the milling direction after a cut, with
an rms SE contrast ``curtain_contrast_rms``. Each polish pass at rocking angle theta from the
cut removes a share r(theta) = max_removal x min(1, |theta| / saturation angle): the severity
left is the product of (1 - r) over the passes (physics.md: rock until the curtains vanish).
"""

from __future__ import annotations

import numpy as np

from fibsims.instrument import MillPattern
from fibsims_twin.parameters import NM_PER_UM, MillingParameters
from fibsims_twin.state import CurtainRecord, TwinState


def apply_mill(
    state: TwinState,
    pattern: MillPattern,
    drift_z_um: float,
    rng: np.random.Generator,
    p: MillingParameters,
) -> None:
    """Move the face (both depths) and the curtain record for a completed pattern."""
    front = float(pattern.front_z_um)
    state.face_z_um = max(state.face_z_um, front)
    last = state.last_front_um
    if last is not None and front < last:
        return  # behind the face: the beam dwells on nothing of it
    landed = front - drift_z_um + p.cut_placement_sigma_nm / NM_PER_UM * rng.standard_normal()
    rotation = state.true_rotation_deg()
    if last is None or front > last:  # a cut
        state.last_front_um = front
        state.sample_face_z_um = landed
        state.curtain = CurtainRecord(rotation)
        return
    state.sample_face_z_um = max(state.sample_face_z_um, landed)  # a polish
    if state.curtain is None:
        state.curtain = CurtainRecord(rotation)
    state.curtain.polish_rotations_deg.append(rotation)


def sputter_depth_um(charge_nc: float, area_um2: float, volume_per_dose_um3_per_nc: float) -> float:
    """Depth a uniform scan removes: dose per area x volume per dose."""
    return charge_nc / area_um2 * volume_per_dose_um3_per_nc


def curtain_severity(record: CurtainRecord | None, p: MillingParameters) -> float:
    """rms SE contrast of the curtains left on the face."""
    severity = p.curtain_contrast_rms
    if record is None:
        return severity
    for rotation in record.polish_rotations_deg:
        angle = abs(rotation - record.cut_rotation_deg)
        severity *= 1.0 - p.rocking_removal_max * min(1.0, angle / p.rocking_saturation_deg)
    return severity
