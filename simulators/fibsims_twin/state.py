"""The physical state the twin's devices share.

Why shared: the devices of one instrument act on one sample. The column's mill moves the face
the detector images; the stage and the beam shift together decide which part of the face is in
the field of view; the selected current sets the dose of every device. Each device reads and
writes this one record instead of holding a copy that could drift out of step.

Two depths of the face are kept. ``face_z_um`` is what the instrument knows: the front of the
deepest cut or polish pattern milled (the beam frame). ``sample_face_z_um`` is where the face
really stands in the sample, and only it reaches the phantom. It moves only by what removes
material (:mod:`fibsims_twin.milling`): a cut or polish that lands beyond it, and the dose of
every scan. So a SIMS raster that sputters deeper than a slice leaves the face there, and the
next cut, landing behind it, removes nothing. ``features`` are the grooves milled into the block
ahead of the face (fiducials, :mod:`fibsims_twin.features`), in sample coordinates.

Nothing of this can be re-derived by a fresh process: the face depends on every dose the sample
received. A run therefore commits :func:`fibsims_twin.snapshot.take_sample_state` with every
slice and opens the next session from it (``InstrumentOptions.sample_state``), as a real sample
would simply still be in the chamber.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims.instrument import AcquisitionGeometry, StagePosition
from fibsims_twin.features import MilledFeatures


@dataclass
class CurtainRecord:
    """How the current face was made: the front of the pattern that cut it, the true rotation
    (deg) it was cut at, then the rotations of the polish passes at that front."""

    front_um: float
    cut_rotation_deg: float
    polish_rotations_deg: list[float] = field(default_factory=list)


@dataclass
class TwinState:
    """Mutable state of the simulated instrument and sample.

    ``stage`` is the stage's read-back (motor encoders: the commanded target);
    ``rotation_error_deg`` is how far the true rotation is off it (backlash, repeatability).
    ``focus_correction_um`` is what the last autofocus added to the lens presets; a current
    change reloads the presets and clears it. ``se_contrast`` and ``se_brightness`` are the SE
    detector's video settings (0..1). ``last_geometry`` is where the most recent image or raster
    landed (ground truth, not part of the sample).
    """

    current_na: float
    voltage_kv: float
    se_contrast: float
    se_brightness: float
    face_z_um: float = 0.0
    sample_face_z_um: float = 0.0
    last_front_um: float | None = None
    curtain: CurtainRecord | None = None
    features: MilledFeatures = field(default_factory=MilledFeatures)
    blanked: bool = True
    beam_shift_um: tuple[float, float] = (0.0, 0.0)
    stage: StagePosition = field(default_factory=StagePosition)
    rotation_error_deg: float = 0.0
    focus_correction_um: float = 0.0
    last_geometry: AcquisitionGeometry | None = None

    def true_rotation_deg(self) -> float:
        return self.stage.rotation_deg + self.rotation_error_deg
