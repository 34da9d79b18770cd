"""The sample stage: moves cost the slowest axis's travel time plus a settle; rotation errs.

Why it matters: rocking polish rotates the sample 0 -> -20 -> +20 -> 0 deg on every slice, so
over 400 slices the rotation speed and the settle time add up to well over an hour of the run.

Rotation errors: the gear train has backlash (a target approached from below lands backlash/2
short, from above backlash/2 past) and each move scatters by the repeatability. Both happen after
the motor encoder, so the read-back (what :meth:`TwinStage.position` and ``move_to`` return) is
the commanded target; the error lives in :attr:`TwinState.rotation_error_deg`, where it turns the
rocking angles the polish really mills at and, because the rotation axis does not pass through
the field centre, shifts the imaged field. The scatter is drawn per (run seed, face, move at that
face), so a resumed run repeats it.
"""

from __future__ import annotations

import math

from fibsims.instrument import InstrumentError, Stage, StagePosition
from fibsims_twin.clock import VirtualClock
from fibsims_twin.parameters import StageParameters
from fibsims_twin.rng import RandomStreams
from fibsims_twin.state import TwinState

FULL_TURN_DEG = 360.0
ROTATION_STREAM = "stage.rotation"


def rotation_distance_deg(start_deg: float, end_deg: float) -> float:
    """Angle the rotation axis travels, the short way round."""
    turn = (end_deg - start_deg) % FULL_TURN_DEG
    return min(turn, FULL_TURN_DEG - turn)


def rotation_direction(start_deg: float, end_deg: float) -> float:
    """+1 if the short way round is counter-clockwise (increasing angle), -1 otherwise."""
    turn = (end_deg - start_deg) % FULL_TURN_DEG
    return 1.0 if turn <= FULL_TURN_DEG / 2 else -1.0


def move_duration_s(start: StagePosition, end: StagePosition, p: StageParameters) -> float:
    """max over axes(|distance| / speed) + settle; a move to where the stage is costs nothing."""
    times = (
        abs(end.x_um - start.x_um) / p.xy_speed_um_per_s,
        abs(end.y_um - start.y_um) / p.xy_speed_um_per_s,
        abs(end.z_um - start.z_um) / p.z_speed_um_per_s,
        abs(end.tilt_deg - start.tilt_deg) / p.tilt_speed_deg_per_s,
        rotation_distance_deg(start.rotation_deg, end.rotation_deg) / p.rotation_speed_deg_per_s,
    )
    slowest = max(times)
    return slowest + p.settle_time_s if slowest > 0 else 0.0


class TwinStage(Stage):
    """The simulated stage, reading back its encoders; the true rotation carries the errors."""

    def __init__(
        self,
        state: TwinState,
        clock: VirtualClock,
        streams: RandomStreams,
        parameters: StageParameters,
    ) -> None:
        self._state = state
        self._clock = clock
        self._streams = streams
        self._p = parameters

    def position(self) -> StagePosition:
        return self._state.stage

    def move_to(self, target: StagePosition) -> StagePosition:
        self._check(target)
        state, p = self._state, self._p
        start = state.stage
        self._clock.sleep(move_duration_s(start, target, p))
        if rotation_distance_deg(start.rotation_deg, target.rotation_deg) > 0:
            rng = self._streams.at_position(ROTATION_STREAM, state.face_z_um)
            approach = rotation_direction(start.rotation_deg, target.rotation_deg)
            state.rotation_error_deg = (
                -approach * p.rotation_backlash_deg / 2
                + p.rotation_repeatability_deg * rng.standard_normal()
            )
        state.stage = target
        return target

    def true_position(self) -> StagePosition:
        """Where the stage really is (twin-only): the read-back with the rotation error."""
        state = self._state
        return StagePosition(
            state.stage.x_um,
            state.stage.y_um,
            state.stage.z_um,
            state.stage.tilt_deg,
            state.true_rotation_deg(),
        )

    def _check(self, target: StagePosition) -> None:
        p = self._p
        for name in ("x_um", "y_um", "z_um", "tilt_deg", "rotation_deg"):
            if not math.isfinite(getattr(target, name)):
                raise InstrumentError(
                    f"stage target {name} {getattr(target, name)!r} is not finite"
                )
        limits = {
            "x_um": (-p.xy_limit_um, p.xy_limit_um),
            "y_um": (-p.xy_limit_um, p.xy_limit_um),
            "z_um": (-p.z_limit_um, p.z_limit_um),
            "tilt_deg": (p.tilt_min_deg, p.tilt_max_deg),
        }
        for name, (low, high) in limits.items():
            value = getattr(target, name)
            if not low <= value <= high:
                raise InstrumentError(
                    f"stage target {name} {value:g} is outside the travel {low:g}..{high:g}"
                )
