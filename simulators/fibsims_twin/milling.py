"""What a pattern does to the sample, how deep a scan sputters, and how curtained the face is.

Why a module: the column's mill, the detector's image and the spectrometer's raster all move
the face of the sample, and the curtains they image depend on how it was milled.

The true face (``TwinState.sample_face_z_um``) moves only by what removes material:
- A pattern whose footprint lies wholly ahead of the face (its back edge, less the z drift, at
  or beyond the face within ``feature_face_tolerance_nm``) is not a cut: it mills a feature
  into the block (:mod:`fibsims_twin.features`) and leaves the face alone. So is a pattern
  narrower than ``cut_min_width_um`` wherever it lies: a line that reaches the face notches it
  (the feature's section in the face), it does not expose a new face.
- Any other pattern (a cut, or a polish at the same front) lands at front - z drift(t) +
  placement error in the sample, and removes material only if that lies beyond the face, which
  then stands there; otherwise the beam dwells on nothing new and the face stays. The slice
  thickness is therefore max(what the cut reaches beyond the last face, 0): 25 nm - (z drift
  between two cuts) + the difference of two placement errors when nothing else moved the face.
- A scan (image, raster, focus sweep) sputters dose / area x Yv(theta), the NMC rate at the
  scan's incidence on the face (:mod:`fibsims_twin.geometry`, :mod:`fibsims_twin.sputtering`),
  and deepens the face by that much. A SIMS raster that sputters more than a
  slice leaves the face beyond the next cut, which then removes nothing.

The instrument's own idea of the face (``TwinState.face_z_um``) is the deepest front of a cut
or polish it milled; features do not move it.

Curtains: differential milling leaves stripes along the milling direction on the face a cut
exposes, with an rms SE contrast ``curtain_contrast_rms``. A pattern that removes material
exposes a new face, cut at the stage's true rotation; a pattern at the same front as the one
that cut the face is a polish pass and sweeps that face whether or not its own placement lands
deeper. A pass at rocking angle theta from the cut meets the stripes' side walls at
90 - |theta| deg, so it erodes them as the sputter yield there allows: it removes a share
r(theta) = max_removal x min(1, Y(90 - |theta|) / Y(90 - saturation angle)) below the
saturation angle and max_removal from it on (ASSUMED: the pass then cuts fully across the
stripes), Y Yamamura's angular law of the NMC matrix: zero at theta = 0, where the beam runs
along the stripes, and nearly full from 8 deg (the yield peaks at 78 deg incidence, i.e. a
12 deg rock). The severity left is the product of (1 - r) over the passes (docs/physics.md: rock
until the curtains vanish). A pattern that neither removes material nor shares that front
leaves the curtains as they are, and so does sputtering by scans.
"""

from __future__ import annotations

from fibsims.instrument import MillPattern
from fibsims_twin.features import footprint_z_extent_um
from fibsims_twin.geometry import curtain_wall_incidence_deg
from fibsims_twin.parameters import NM_PER_UM, MillingParameters
from fibsims_twin.rng import position_pm
from fibsims_twin.sputtering import AngularYield
from fibsims_twin.state import CurtainRecord, TwinState


def is_feature(
    state: TwinState, pattern: MillPattern, drift_z_um: float, p: MillingParameters
) -> bool:
    """Whether ``pattern`` (milled while the z drift is ``drift_z_um``) mills a feature: it is
    narrower than a cut, or lies wholly ahead of the true face (its rotated footprint's back
    edge, in the sample frame, at or beyond it)."""
    if pattern.width_um < p.cut_min_width_um:
        return True
    back_um = footprint_z_extent_um(pattern)[0] - drift_z_um
    return back_um >= state.sample_face_z_um - p.feature_face_tolerance_nm / NM_PER_UM


def apply_cut(
    state: TwinState,
    pattern: MillPattern,
    drift_z_um: float,
    placement_error_um: float,
) -> None:
    """Move the face and the curtain record for a completed cut or polish pattern."""
    front = float(pattern.front_z_um)
    state.face_z_um = max(state.face_z_um, front)
    state.last_front_um = front
    landed = front - drift_z_um + placement_error_um
    removes = landed > state.sample_face_z_um
    if removes:
        state.sample_face_z_um = landed
    record = state.curtain
    rotation = state.true_rotation_deg()
    if record is not None and position_pm(record.front_um) == position_pm(front):
        record.polish_rotations_deg.append(rotation)  # a polish pass sweeps its cut's face
    elif removes:
        state.curtain = CurtainRecord(front, rotation)  # a new face, cut at this rotation


def sputter_depth_um(charge_nc: float, area_um2: float, volume_per_dose_um3_per_nc: float) -> float:
    """Depth a uniform scan removes: dose per area x volume per dose."""
    return charge_nc / area_um2 * volume_per_dose_um3_per_nc


def rocking_removal(rocking_deg: float, p: MillingParameters, walls: AngularYield) -> float:
    """Share of the curtains a polish pass rotated by ``rocking_deg`` from the cut removes.

    From the saturation angle on, the pass cuts fully across the stripes (``rocking_removal_max``).
    Below it, the pass erodes the stripe walls only as fast as the beam, nearly parallel to them,
    sputters them: the share is scaled by the walls' yield at this pass relative to the yield at
    the saturation angle (capped at 1), so a pass at 0 deg removes nothing and one within a few
    degrees of the cut very little."""
    if abs(rocking_deg) >= p.rocking_saturation_deg:
        return p.rocking_removal_max
    full = walls.ratio(curtain_wall_incidence_deg(p.rocking_saturation_deg))
    here = walls.ratio(curtain_wall_incidence_deg(rocking_deg))
    return p.rocking_removal_max * min(1.0, here / full)


def curtain_severity(
    record: CurtainRecord | None, p: MillingParameters, walls: AngularYield
) -> float:
    """rms SE contrast of the curtains left on the face; ``walls`` is the angular sputter law
    of the material the stripes are cut in (NMC)."""
    severity = p.curtain_contrast_rms
    if record is None:
        return severity
    for rotation in record.polish_rotations_deg:
        severity *= 1.0 - rocking_removal(rotation - record.cut_rotation_deg, p, walls)
    return severity
