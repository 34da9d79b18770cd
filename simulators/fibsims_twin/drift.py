"""What changes with instrument time alone: sample drift, source emission, lens focus.

Why functions of time: a resumed run must repeat the bytes of an uninterrupted one, so each of
these is a deterministic function of (run seed, instrument time) built on
:class:`~fibsims_twin.timeseries.KeyedProcess` (see there), never a state carried from call to
call.

- Drift: the sample moves relative to the beam by a random walk (per axis) plus a thermal ramp
  that settles exponentially, d(t) = v0 tau (1 - exp(-t / tau)) along a direction fixed per
  run (docs/physics.md: "a slow random walk plus a thermal ramp, a few nm/min"). In the face frame,
  x and y move the imaged field, z moves where a cut lands in the sample.
- Emission: the plasma source current is the selected rung times 1 + e(t), e stationary.
- Focus: the lens presets are off focus by f(t), stationary (thermal wander).
"""

from __future__ import annotations

import math

import numpy as np

from fibsims_twin.parameters import (
    NM_PER_UM,
    SECOND_PER_HOUR,
    SECOND_PER_MINUTE,
    DriftParameters,
)
from fibsims_twin.rng import keyed_generator
from fibsims_twin.timeseries import KeyedProcess

DRIFT_STREAM = "drift.walk"
THERMAL_STREAM = "drift.thermal_direction"
EMISSION_STREAM = "source.emission"
FOCUS_STREAM = "column.focus_wander"


class SlowProcesses:
    """The run's drift, emission and focus processes."""

    def __init__(self, seed: int, p: DriftParameters) -> None:
        self.p = p
        walk_um_per_sqrt_s = p.drift_walk_nm_per_sqrt_min / NM_PER_UM / math.sqrt(SECOND_PER_MINUTE)
        self._walk = KeyedProcess(
            seed, DRIFT_STREAM, 3, p.drift_time_step_s, walk_um_per_sqrt_s, None, p.block_steps
        )
        direction = keyed_generator(seed, THERMAL_STREAM).standard_normal(3)
        self._thermal_direction = direction / np.linalg.norm(direction)
        self._thermal_tau_s = p.thermal_drift_time_constant_h * SECOND_PER_HOUR
        self._thermal_total_um = (
            p.thermal_drift_rate_nm_per_min / NM_PER_UM / SECOND_PER_MINUTE * self._thermal_tau_s
        )
        self._emission = KeyedProcess(
            seed,
            EMISSION_STREAM,
            1,
            p.emission_time_step_s,
            p.emission_fluctuation_fraction,
            p.emission_correlation_s,
            p.block_steps,
        )
        self._focus = KeyedProcess(
            seed,
            FOCUS_STREAM,
            1,
            p.focus_time_step_s,
            p.focus_wander_um,
            p.focus_correlation_h * SECOND_PER_HOUR,
            p.block_steps,
        )

    def drift_um(self, t_s: float) -> np.ndarray:
        """Displacement (x, y, z) of the sample relative to the beam at time ``t_s``."""
        ramp = self._thermal_total_um * -math.expm1(-max(t_s, 0.0) / self._thermal_tau_s)
        return self._walk.value(t_s) + ramp * self._thermal_direction

    def emission_factor(self, t_s: float) -> float:
        """Delivered over selected beam current at time ``t_s``."""
        return 1.0 + float(self._emission.value(t_s)[0])

    def focus_error_um(self, t_s: float) -> float:
        """How far the lens presets are off focus at time ``t_s``."""
        return float(self._focus.value(t_s)[0])
