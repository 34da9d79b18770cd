"""``create_instrument``: the twin's entry point (``fibsims.instruments`` group, name ``sim``).

Why a factory: the core opens backends by name and never imports the twin. The factory reads
the run seed (all noise) and the recipe's ``sample.twin`` section (the phantom, i.e. the sample's
identity) and wires the devices to one shared state and one virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from fibsims.instrument import Instrument, InstrumentError, InstrumentOptions
from fibsims_twin import faults
from fibsims_twin.clock import VirtualClock
from fibsims_twin.column import TwinColumn
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.rng import RandomStreams
from fibsims_twin.stage import TwinStage
from fibsims_twin.state import TwinState
from fibsims_twin.tof import TwinTofSpectrometer

BACKEND_NAME = "sim"


@dataclass(kw_only=True)
class TwinInstrument(Instrument):
    """The twin's :class:`Instrument`, plus its ground truth for validation and tests.

    ``phantom`` is the sample the devices see; ``state`` the shared physical state (face
    position, current, ...); ``parameters`` the values the models run with. The engine uses only
    the :class:`Instrument` fields.
    """

    phantom: Phantom
    state: TwinState
    parameters: TwinParameters


def create_instrument(
    options: InstrumentOptions, parameters: TwinParameters | None = None
) -> TwinInstrument:
    """Open the digital twin for a run seeded by ``options.seed`` on ``options.sample``."""
    p = parameters or TwinParameters()
    if isinstance(options.seed, bool) or not isinstance(options.seed, int):
        raise InstrumentError(f"the run seed must be an integer, got {options.seed!r}")
    phantom = Phantom.from_sample(options.sample, p.phantom, p.materials)
    clock = VirtualClock(start_s=options.start_time_s)
    streams = RandomStreams(options.seed)
    state = TwinState(current_na=p.column.initial_current_na, voltage_kv=p.column.voltage_kv)
    column = TwinColumn(state, clock, streams, p.column, p.materials, p.detector.line_flyback_s)
    detector = TwinSEDetector(state, clock, streams, phantom, p.detector, p.column, p.noise)
    tof = TwinTofSpectrometer(
        state, clock, streams, phantom, p.tof, p.column, p.materials, p.detector, p.noise
    )
    twin = TwinInstrument(
        name=BACKEND_NAME,
        clock=clock,
        stage=TwinStage(state, clock, p.stage),
        column=column,
        se_detector=detector,
        tof=tof,
        phantom=phantom,
        state=state,
        parameters=p,
    )
    return faults.inject(twin, options.faults)  # also fits the chamber gauge
