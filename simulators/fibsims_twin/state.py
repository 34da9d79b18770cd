"""The physical state the twin's devices share.

Why shared: the devices of one instrument act on one sample. The column's mill moves the face
the detector images; the stage and the beam shift together decide which part of the face is in
the field of view; the selected current sets the dose of every device. Each device reads and
writes this one record instead of holding a copy that could drift out of step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims.instrument import StagePosition


@dataclass
class TwinState:
    """Mutable state of the simulated instrument and sample.

    ``face_z_um`` is where the cut face stands on the slicing axis (0 = the recipe's first slice
    starts there). The field of view is centred on sample point
    (stage x + beam shift x, stage y + beam shift y) of the face frame.
    """

    current_na: float
    voltage_kv: float
    face_z_um: float = 0.0
    blanked: bool = True
    beam_shift_um: tuple[float, float] = (0.0, 0.0)
    stage: StagePosition = field(default_factory=StagePosition)
    defocus_um: float = 0.0
    last_focus_s: float = 0.0

    def field_centre_um(self) -> tuple[float, float]:
        return (
            self.stage.x_um + self.beam_shift_um[0],
            self.stage.y_um + self.beam_shift_um[1],
        )
