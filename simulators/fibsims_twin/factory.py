"""``create_instrument``: the twin's entry point (``fibsims.instruments`` group, name ``sim``).

Why a factory: the core opens backends by name and never imports the twin. The factory reads
the run seed (all noise), the recipe's ``sample.twin`` section (the phantom, i.e. the sample's
identity), the session's start time (a resumed session starts its clock where the last
committed slice ended, and every time-driven process is a function of that clock) and the
sample's state as the last committed slice left it (``options.sample_state``: where the face
stands, what was milled into the block; without it the sample is fresh, faced at z = 0), and
wires the devices to one shared state and one virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from fibsims.instrument import Instrument, InstrumentError, InstrumentOptions
from fibsims_twin import faults
from fibsims_twin.capabilities import twin_capabilities
from fibsims_twin.clock import VirtualClock
from fibsims_twin.column import TwinColumn
from fibsims_twin.cost_view import initial_state
from fibsims_twin.costs import TwinCosts
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.device import DeviceContext
from fibsims_twin.drift import SlowProcesses
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.rng import RandomStreams
from fibsims_twin.snapshot import restore_sample_state
from fibsims_twin.stage import TwinStage
from fibsims_twin.state import TwinState
from fibsims_twin.tof import TwinTofSpectrometer
from fibsims_twin.truth import TwinTruth

BACKEND_NAME = "sim"


@dataclass(kw_only=True)
class TwinInstrument(Instrument):
    """The twin's :class:`Instrument`, plus its internals for validation and tests.

    ``phantom`` is the sample the devices see; ``state`` the shared physical state (face
    position, current, ...); ``slow`` the time-driven processes (drift, emission, focus);
    ``parameters`` the values the models run with. The engine uses only the :class:`Instrument`
    fields (``truth`` included, when it scores a run).
    """

    phantom: Phantom
    state: TwinState
    slow: SlowProcesses
    parameters: TwinParameters


def create_instrument(
    options: InstrumentOptions, parameters: TwinParameters | None = None
) -> TwinInstrument:
    """Open the digital twin for a run seeded by ``options.seed`` on ``options.sample``, with
    the sample in ``options.sample_state`` if given (a malformed one is an InstrumentError)."""
    p = parameters or TwinParameters()
    if isinstance(options.seed, bool) or not isinstance(options.seed, int):
        raise InstrumentError(f"the run seed must be an integer, got {options.seed!r}")
    phantom = Phantom.from_sample(options.sample, p.phantom, p.materials, p.microstructure)
    clock = VirtualClock(start_s=options.start_time_s)
    streams = RandomStreams(options.seed)
    slow = SlowProcesses(options.seed, p.drift)
    state = initial_state(p)  # the cost view starts from the same state
    if options.sample_state is not None:
        restore_sample_state(options.sample_state, state, streams, phantom, clock.now_s(), p)
    column = TwinColumn(
        state,
        clock,
        streams,
        slow,
        p.column,
        p.materials,
        p.milling,
        p.stage,
        p.detector.line_flyback_s,
    )
    context = DeviceContext(state, clock, streams, slow, phantom, p)
    detector = TwinSEDetector(context)
    tof = TwinTofSpectrometer(context)
    twin = TwinInstrument(
        name=BACKEND_NAME,
        clock=clock,
        stage=TwinStage(state, clock, streams, p.stage),
        column=column,
        se_detector=detector,
        tof=tof,
        truth=TwinTruth(detector, tof, context),
        costs=TwinCosts(p, state),
        capabilities=twin_capabilities(p),
        phantom=phantom,
        state=state,
        slow=slow,
        parameters=p,
    )
    return faults.inject(twin, options.faults)  # also fits the chamber gauge
