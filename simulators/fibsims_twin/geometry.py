"""Where the beam meets what it sputters: the incidence angle of each action.

Why a module: the sputter yield (:mod:`fibsims_twin.sputtering`) and the SE yield depend on the
angle between the beam and the surface it hits, and that angle follows from the stage pose and
from what the action works on. Face frame (``fibsims.instrument.types``): x across the face,
y down it, z along the slicing axis; the stage rotation turns the sample about the face normal
(z), its tilt about x.

The twin folds the two poses of a FIB-SIMS slice-and-view into one stage pose, as the engine
does (it never tilts between milling and imaging): at zero tilt the milling beam runs down the
face (+y), normal to the top surface it cuts into, and the scanning beam (SE image, SIMS raster,
autofocus sweep) looks along the face normal. A stage tilt t turns the sample away from both
nominal geometries by the same angle, so

- a **mill or polish** sputters the trench floor at |t| from its normal (the pattern's volume
  comes off the top surface; the face itself, parallel to the beam, is met at grazing
  incidence, where the yield vanishes: that is why a FIB-cut face is steep);
- a **scan** hits the face at |t| from its normal;
- a **rocking pass** rotated by theta about the face normal meets the side walls of the curtain
  stripes (planes along y, normals along x) at 90 - |theta| deg, whatever the tilt: at theta = 0
  the beam runs along the stripes and cannot erode them.
"""

from __future__ import annotations

from fibsims.instrument import StagePosition

RIGHT_ANGLE_DEG = 90.0


def mill_incidence_deg(stage: StagePosition) -> float:
    """Incidence on the top surface a pattern mills into: the stage tilt."""
    return abs(stage.tilt_deg)


def scan_incidence_deg(stage: StagePosition) -> float:
    """Incidence on the face a scan images or sputters: the stage tilt."""
    return abs(stage.tilt_deg)


def curtain_wall_incidence_deg(rocking_deg: float) -> float:
    """Incidence on the side walls of the curtain stripes of a pass rotated by ``rocking_deg``
    from the cut that left them."""
    return RIGHT_ANGLE_DEG - min(abs(rocking_deg), RIGHT_ANGLE_DEG)
