"""What the scanning devices of one simulated instrument share.

The SE detector and the ToF spectrometer image the same sample with the same beam: they read
one physical state, one virtual clock, one set of random streams and slow processes (drift,
emission), one phantom and one parameter set. The factory builds that bundle once
(:class:`DeviceContext`) and hands it to both, so they cannot be built from different parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from fibsims_twin.clock import VirtualClock
from fibsims_twin.drift import SlowProcesses
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
