"""What the scanning devices of one simulated instrument share.

The SE detector and the ToF spectrometer image the same sample with the same beam: they read
one physical state, one virtual clock, one set of random streams and slow processes (drift,
emission), one phantom and one parameter set. The factory builds that bundle once
(:class:`DeviceContext`) and hands it to both, so they cannot be built from different parts.
Both see the phantom with the features milled into it (:meth:`ScanningDevice.faces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fibsims_twin.capabilities import twin_capabilities
from fibsims_twin.clock import VirtualClock
from fibsims_twin.drift import SlowProcesses
from fibsims_twin.face import FaceTruth
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.rng import RandomStreams
from fibsims_twin.state import TwinState


@dataclass(frozen=True)
class DeviceContext:
    state: TwinState
    clock: VirtualClock
    streams: RandomStreams
    slow: SlowProcesses
    phantom: Phantom
    parameters: TwinParameters


class ScanningDevice:
    """Base of the twin's scanning devices: unpacks the shared context once."""

    def __init__(self, context: DeviceContext) -> None:
        self._state = context.state
        self._clock = context.clock
        self._streams = context.streams
        self._slow = context.slow
        self._phantom = context.phantom
        self._p = context.parameters
        self._capabilities = twin_capabilities(context.parameters)

    def faces(self, z_um: Sequence[float], x_um: np.ndarray, y_um: np.ndarray) -> list[FaceTruth]:
        """The sample at depths ``z_um`` on one grid: the phantom (:meth:`Phantom.layers`) with
        the milled features carved out of each face as vacuum."""
        faces = self._phantom.layers(z_um, x_um, y_um)
        for face in faces:
            self._state.features.carve(face.labels, face.z_um, face.x_um, face.y_um)
        return faces
