"""The physical state the twin's devices share.

Why shared: the devices of one instrument act on one sample. The column's mill moves the face
the detector images; the stage and the beam shift together decide which part of the face is in
the field of view; the selected current sets the dose of every device. Each device reads and
writes this one record instead of holding a copy that could drift out of step.

Two depths of the face are kept. ``face_z_um`` is what the instrument knows: the front of the
deepest pattern milled (the beam frame). ``sample_face_z_um`` is where the face really stands in
the sample: a cut lands off its front by the placement error and the z drift, and every scan
sputters a little more. Only the second reaches the phantom.

What a fresh twin opens with equals what an uninterrupted run holds at a slice boundary as far
as the data depend on it: the face is re-established by the next cut, the stage sits at home,
the rotation error and focus correction are re-drawn or reset before the next image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims.instrument import StagePosition


@dataclass
class CurtainRecord:
    """The rotations (true, deg) at which the current face was cut and then polished."""

    cut_rotation_deg: float
    polish_rotations_deg: list[float] = field(default_factory=list)


@dataclass
class TwinState:
    """Mutable state of the simulated instrument and sample.

    ``stage`` is the stage's read-back (motor encoders: the commanded target);
    ``rotation_error_deg`` is how far the true rotation is off it (backlash, repeatability).
    ``focus_correction_um`` is what the last autofocus added to the lens presets; a current
    change reloads the presets and clears it.
    """

    current_na: float
    voltage_kv: float
    face_z_um: float = 0.0
    sample_face_z_um: float = 0.0
    last_front_um: float | None = None
    curtain: CurtainRecord | None = None
    blanked: bool = True
    beam_shift_um: tuple[float, float] = (0.0, 0.0)
    stage: StagePosition = field(default_factory=StagePosition)
    rotation_error_deg: float = 0.0
    focus_correction_um: float = 0.0

    def true_rotation_deg(self) -> float:
        return self.stage.rotation_deg + self.rotation_error_deg
