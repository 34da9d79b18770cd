"""The Xe+ plasma column: a current ladder, blanking, beam shift, milling and autofocus.

Why these models: the run's 23 hours are mostly milling and waiting on the column, so the time
of every action comes from a physical or declared cost: a pattern takes V / (Yv(theta) I)
(docs/physics.md; Yv(theta) the NMC rate at the beam's incidence on the surface it mills into, which
the stage tilt sets: :mod:`fibsims_twin.geometry`, :mod:`fibsims_twin.sputtering`),
a current change costs an aperture swap and beam settling only when the rung changes, and the
autofocus costs the frames of its focus sweep. Nothing here returns a fixed duration.

The source current fluctuates about the selected rung as a function of instrument time
(:mod:`fibsims_twin.drift`): it changes the dose a pattern delivers (and what
:meth:`TwinColumn.measured_current_na` reads), not the pattern time, since the column times
patterns with the nominal current.

Focus: the lens presets of a rung sit off focus by a slow wander f(t). An autofocus adds a
correction that leaves only its residual; a current change reloads the presets and drops the
correction. Images blur by the defocus left. The focus sweep scans the field, so it sputters
the face by its dose like any scan.

Patterns: where a pattern lands and what it removes is :mod:`fibsims_twin.milling`'s rule; a
pattern wholly ahead of the face mills a feature (:mod:`fibsims_twin.features`) placed by the
beam as scans are (:mod:`fibsims_twin.frames`). Either way it takes V / (Yv(theta) I).

Pattern timing is the column's pattern application: it doses the pattern for NMC at the
incidence the stage tilt gives (tilt correction, as vendors' patterning does). A rocking pass's
rotation about the face normal does not enter: the pattern is timed as at the home pose (so
the cost model, which sees no rotation, gives the same time); what the rotation changes is how
the pass erodes the curtains (:func:`fibsims_twin.milling.rocking_removal`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fibsims.instrument import (
    FocusResult,
    InstrumentError,
    IonColumn,
    MillPattern,
    MillResult,
    PatternKind,
)
from fibsims.instrument.capabilities import neighbouring_rungs, rung_within
from fibsims_twin.clock import VirtualClock
from fibsims_twin.drift import SlowProcesses
from fibsims_twin.features import MilledFeature
from fibsims_twin.frames import beam_origin_um
from fibsims_twin.milling import apply_cut, is_feature, sputter_depth_um
from fibsims_twin.parameters import (
    NM_PER_UM,
    SECOND_PER_MICROSECOND,
    ColumnParameters,
    MaterialParameters,
    MillingParameters,
    StageParameters,
)
from fibsims_twin.rng import RandomStreams
from fibsims_twin.sputtering import SputterModel
from fibsims_twin.state import TwinState
from fibsims_twin.timing import (
    autofocus_duration_s,
    mill_duration_s,
    pattern_rate_um3_per_nc,
    scan_rate_um3_per_nc,
)

MILL_STREAM = "column.mill"
FOCUS_STREAM = "column.autofocus"


def select_rung(ladder_na: Sequence[float], request_na: float, tolerance: float) -> float:
    """The ladder current nearest ``request_na``; refuse it if farther than ``tolerance``.

    The tolerance is relative to the request, |rung - request| <= tolerance * request: the rule
    the engine's preflight applies, so a plan that passes preflight never fails here.
    """
    if not math.isfinite(request_na) or request_na <= 0:
        raise InstrumentError(f"beam current {request_na!r} nA must be a positive number")
    rung = rung_within(ladder_na, request_na, tolerance)
    if rung is None:
        nearest = [f"{r:g} nA" for r in neighbouring_rungs(ladder_na, request_na)]
        raise InstrumentError(
            f"beam current {request_na:g} nA is not on the column's ladder (more than "
            f"{tolerance:.0%} from every rung); the nearest rungs are {' and '.join(nearest)}: "
            "choose one of them"
        )
    return rung


def autofocus_sputter_um(current_na: float, p: ColumnParameters, yv_um3_per_nc: float) -> float:
    """Depth the focus sweep sputters off its field at ``current_na`` (delivered)."""
    width, height = p.autofocus_resolution_px
    dwell_s = p.autofocus_frames * width * height * p.autofocus_dwell_us * SECOND_PER_MICROSECOND
    charge_nc = current_na * dwell_s  # flybacks and settles are blanked
    area_um2 = p.autofocus_field_width_um**2 * height / width
    return sputter_depth_um(charge_nc, area_um2, yv_um3_per_nc)


class TwinColumn(IonColumn):
    """The simulated column acting on the shared :class:`TwinState`."""

    def __init__(
        self,
        state: TwinState,
        clock: VirtualClock,
        streams: RandomStreams,
        slow: SlowProcesses,
        parameters: ColumnParameters,
        materials: MaterialParameters,
        milling: MillingParameters,
        stage: StageParameters,
        line_flyback_s: float,
    ) -> None:
        self._state = state
        self._clock = clock
        self._streams = streams
        self._slow = slow
        self._p = parameters
        self._milling = milling
        self._stage = stage
        self._line_flyback_s = line_flyback_s
        self._sputter = SputterModel(parameters, materials)

    @property
    def ion_species(self) -> str:
        return self._p.ion_species

    def voltage_kv(self) -> float:
        return self._state.voltage_kv

    def set_voltage_kv(self, voltage_kv: float) -> None:
        p = self._p
        if not math.isfinite(voltage_kv) or not p.voltage_min_kv <= voltage_kv <= p.voltage_max_kv:
            raise InstrumentError(
                f"voltage {voltage_kv!r} kV is outside the column's range "
                f"{p.voltage_min_kv:g}-{p.voltage_max_kv:g} kV"
            )
        if voltage_kv != self._state.voltage_kv:
            self._clock.sleep(p.voltage_change_time_s)
            self._state.voltage_kv = float(voltage_kv)

    def current_ladder_na(self) -> Sequence[float]:
        return tuple(sorted(self._p.current_ladder_na))

    def current_na(self) -> float:
        return self._state.current_na

    def set_current_na(self, current_na: float) -> float:
        rung = select_rung(self.current_ladder_na(), current_na, self._p.current_tolerance_fraction)
        if rung != self._state.current_na:
            self._clock.sleep(self._p.current_switch_time_s)
            self._state.current_na = rung
            self._state.focus_correction_um = 0.0  # the new aperture's presets are loaded
        return rung

    def measured_current_na(self) -> float:
        """The source current now: the rung times the emission fluctuation."""
        return self._state.current_na * self._slow.emission_factor(self._clock.now_s())

    def is_blanked(self) -> bool:
        return self._state.blanked

    def blank(self) -> None:
        self._state.blanked = True

    def unblank(self) -> None:
        self._state.blanked = False

    def beam_shift_um(self) -> tuple[float, float]:
        return self._state.beam_shift_um

    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        limit = self._p.beam_shift_limit_um
        sx, sy = (float(v) for v in shift_um)
        if not (math.isfinite(sx) and math.isfinite(sy)) or max(abs(sx), abs(sy)) > limit:
            raise InstrumentError(
                f"beam shift ({sx}, {sy}) um exceeds the deflector range of +-{limit:g} um per "
                "axis; move the stage instead"
            )
        self._state.beam_shift_um = (sx, sy)

    def defocus_um(self) -> float:
        """How far off focus the beam is now (twin-only): preset wander less the correction.
        (:func:`fibsims_twin.scan.plan_acquisition` applies the same rule to scans.)"""
        return self._slow.focus_error_um(self._clock.now_s()) - self._state.focus_correction_um

    def mill(self, pattern: MillPattern) -> MillResult:
        """Mill for V / (Yv I); the sample changes as :mod:`fibsims_twin.milling` says.

        A pattern wholly ahead of the true face mills a feature into the block; any other is a
        cut or polish, which removes material only beyond the face, but costs the same time
        either way, since the beam dwells over the whole footprint. The nominal face
        (``MillResult.face_z_um``) is the deepest cut or polish front: what the instrument knows.
        """
        state = self._state
        if state.blanked:
            raise InstrumentError("cannot mill: the beam is blanked; call column.unblank() first")
        _check_pattern(pattern)
        duration_s, middle_s, drift = self._plan_mill(pattern)
        dose_nc = state.current_na * duration_s * self._slow.emission_factor(middle_s)
        drift_z = float(drift[2])
        if is_feature(state, pattern, drift_z, self._milling):
            origin = beam_origin_um(state, drift, self._stage)
            self._clock.sleep(duration_s)
            state.features.add(MilledFeature.placed(pattern, origin, drift_z))
        else:
            rng = self._streams.at_position(MILL_STREAM, pattern.front_z_um)
            error_um = self._milling.cut_placement_sigma_nm / NM_PER_UM * rng.standard_normal()
            self._clock.sleep(duration_s)
            apply_cut(state, pattern, drift_z, error_um)
        return MillResult(
            duration_s=duration_s,
            dose_nc=dose_nc,
            face_z_um=state.face_z_um,
            current_na=state.current_na,
        )

    def mills_feature(self, pattern: MillPattern) -> bool:
        """Whether ``pattern``, milled now, would lie wholly ahead of the face (twin-only)."""
        _check_pattern(pattern)
        drift_z = float(self._plan_mill(pattern)[2][2])
        return is_feature(self._state, pattern, drift_z, self._milling)

    def _plan_mill(self, pattern: MillPattern) -> tuple[float, float, np.ndarray]:
        """Duration, middle time and the drift (x, y, z) there, of ``pattern`` started now."""
        rate = pattern_rate_um3_per_nc(self._sputter, self._state.stage)
        duration_s = mill_duration_s(pattern, self._state.current_na, rate)
        middle_s = self._clock.now_s() + duration_s / 2
        return duration_s, middle_s, self._slow.drift_um(middle_s)

    def autofocus(self) -> FocusResult:
        """A focus sweep of small frames at the selected current, each followed by a settle.

        The routine scans on its own (it needs no unblanked beam from the caller). It finds
        the defocus at the start of the sweep and leaves a residual drawn per (run seed, face).
        Its frames sputter the field (``autofocus_field_width_um``) like any scan.
        """
        p = self._p
        state = self._state
        duration_s = autofocus_duration_s(p, self._line_flyback_s)
        rng = self._streams.at_position(FOCUS_STREAM, state.face_z_um)
        before_um = self.defocus_um()
        after_um = p.autofocus_residual_um * rng.standard_normal()
        delivered_na = state.current_na * self._slow.emission_factor(
            self._clock.now_s() + duration_s / 2
        )
        self._clock.sleep(duration_s)
        wander_um = self._slow.focus_error_um(self._clock.now_s())
        state.focus_correction_um = wander_um - after_um
        state.sample_face_z_um += autofocus_sputter_um(
            delivered_na, p, scan_rate_um3_per_nc(self._sputter, state.stage)
        )
        return FocusResult(
            defocus_before_um=before_um, defocus_after_um=after_um, duration_s=duration_s
        )


def _check_pattern(pattern: MillPattern) -> None:
    try:
        PatternKind(pattern.kind)
    except ValueError:
        kinds = ", ".join(k.value for k in PatternKind)
        raise InstrumentError(f"pattern kind {pattern.kind!r} is not one of: {kinds}") from None
    for name in ("width_um", "height_um", "depth_um"):
        value = getattr(pattern, name)
        if not math.isfinite(value) or value <= 0:
            raise InstrumentError(f"pattern {name} {value!r} must be a positive size")
    for name in ("front_z_um", "center_x_um", "center_y_um", "rotation_deg"):
        value = getattr(pattern, name)
        if not math.isfinite(value):
            raise InstrumentError(f"pattern {name} {value!r} must be a finite number")
