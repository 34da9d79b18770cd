"""Coordinate frames: fibsims' face frame and stage pose <-> OpenFIBSEM's stage and beam frames.

fibsims (``fibsims.instrument.types``) speaks of one *face frame*: x across the cut face, y down
it, z along the slicing axis (the face advances in +z), in micrometres, and of a stage pose
whose tilt and rotation are zero when the ion beam meets the sample in its nominal geometry
(the twin folds milling and imaging into that one pose; the engine never tilts between them).

OpenFIBSEM reports the stage in its *raw* coordinates (``FibsemStagePosition``: metres and
radians; on a Thermo stage the raw system, on a CompuStage the specimen system). Its *specimen*
coordinates differ from raw ones by an x/y offset (the compucentric rotation centre, which
``FibsemMicroscope._get_compucentric_rotation_offset`` reads; zero on the demo microscope).

The mapping, all of it here:

- ``x_um, y_um`` = specimen x, y in um = (raw x, y + specimen offset) x 1e6;
- ``z_um`` = raw z x 1e6 (the specimen offset is x/y only);
- ``tilt_deg`` = raw tilt - the reference tilt, where the reference is OpenFIBSEM's "FIB"
  orientation: column tilt - shuttle pre-tilt (52 - 35 = 17 deg on the default configuration),
  the tilt at which the pre-tilted sample surface faces the ion column. So tilt 0 in a recipe
  is "normal to the ion beam", whatever the shuttle's pre-tilt;
- ``rotation_deg`` = raw rotation - the reference rotation (the "FIB" orientation's, the
  configuration's ``rotation_180``), wrapped to [-180, 180). The stage turns about its own
  normal; with a pre-tilted shuttle that is the face normal only to within the pre-tilt.

Beam-relative coordinates (beam shift, scan centre, milling patterns) are fibsem's image frame:
metres from the field centre, x to the right, y *up*. fibsims' face frame has y *down* the face,
so y changes sign for the beam shift and the scan centre. A milling pattern is drawn in the
milling view, which looks down on the top surface: there image x is face x and image y is the
slicing axis z (up in the image = +z, the way the face advances); the pattern's footprint spans
``front_z_um - height_um`` to ``front_z_um`` along z, so its centre is at
``front_z_um - height_um / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fibsims.instrument.types import MillPattern, PatternKind, StagePosition
from fibsims_openfibsem.units import (
    deg_to_rad,
    m_to_um,
    rad_to_deg,
    um_to_m,
    wrap_deg,
)


@dataclass(frozen=True)
class RawStage:
    """A stage position as OpenFIBSEM takes it: raw coordinates, metres and radians."""

    x_m: float
    y_m: float
    z_m: float
    r_rad: float
    t_rad: float


@dataclass(frozen=True)
class StageFrame:
    """Where fibsims' stage pose sits in OpenFIBSEM's raw stage coordinates."""

    reference_tilt_deg: float = 0.0
    """Raw tilt at which fibsims' tilt is 0: the "FIB" orientation (column tilt - pre-tilt)."""
    reference_rotation_deg: float = 0.0
    """Raw rotation at which fibsims' rotation is 0: the "FIB" orientation's rotation."""
    specimen_offset_um: tuple[float, float] = (0.0, 0.0)
    """Specimen minus raw x, y (the compucentric rotation centre)."""

    def to_raw(self, position: StagePosition) -> RawStage:
        dx, dy = self.specimen_offset_um
        return RawStage(
            x_m=um_to_m(position.x_um - dx),
            y_m=um_to_m(position.y_um - dy),
            z_m=um_to_m(position.z_um),
            r_rad=deg_to_rad(wrap_deg(self.reference_rotation_deg + position.rotation_deg)),
            t_rad=deg_to_rad(self.reference_tilt_deg + position.tilt_deg),
        )

    def from_raw(
        self,
        x_m: float | None,
        y_m: float | None,
        z_m: float | None,
        r_rad: float | None,
        t_rad: float | None,
    ) -> StagePosition:
        """The pose fibsims sees; an axis fibsem leaves as None reads as 0 (raw)."""
        dx, dy = self.specimen_offset_um
        return StagePosition(
            x_um=m_to_um(x_m) + dx,
            y_um=m_to_um(y_m) + dy,
            z_um=m_to_um(z_m),
            tilt_deg=rad_to_deg(t_rad) - self.reference_tilt_deg,
            rotation_deg=wrap_deg(rad_to_deg(r_rad) - self.reference_rotation_deg),
        )


def face_to_beam_m(x_um: float, y_um: float) -> tuple[float, float]:
    """A beam-relative offset in the face frame (um, y down) as fibsem's (m, y up)."""
    return um_to_m(x_um), -um_to_m(y_um)


def beam_to_face_um(x_m: float | None, y_m: float | None) -> tuple[float, float]:
    """The inverse of :func:`face_to_beam_m`."""
    return m_to_um(x_m), 0.0 - m_to_um(y_m)


@dataclass(frozen=True)
class RectangleM:
    """A milling rectangle as ``FibsemRectangleSettings`` takes it (metres, radians)."""

    width_m: float
    height_m: float
    depth_m: float
    centre_x_m: float
    centre_y_m: float
    rotation_rad: float
    cleaning_cross_section: bool


def pattern_rectangle(pattern: MillPattern) -> RectangleM:
    """``pattern`` in the milling view's beam-relative coordinates (see the module docstring).

    ``center_y_um`` (how far down the face a pattern sits) has no counterpart in the top view a
    pattern is drawn in: the depth is ``depth_um``. It is not used."""
    return RectangleM(
        width_m=um_to_m(pattern.width_um),
        height_m=um_to_m(pattern.height_um),
        depth_m=um_to_m(pattern.depth_um),
        centre_x_m=um_to_m(pattern.center_x_um),
        centre_y_m=um_to_m(pattern.front_z_um - pattern.height_um / 2),
        rotation_rad=deg_to_rad(pattern.rotation_deg),
        cleaning_cross_section=pattern.kind is PatternKind.CLEANING_CROSS_SECTION,
    )


def field_width_for_m(rectangle: RectangleM, margin: float = 1.1) -> float:
    """The smallest horizontal field width (m) that holds ``rectangle`` with ``margin``."""
    half_x = abs(rectangle.centre_x_m) + rectangle.width_m / 2
    half_y = abs(rectangle.centre_y_m) + rectangle.height_m / 2
    return 2.0 * margin * max(half_x, half_y)
