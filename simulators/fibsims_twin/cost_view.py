"""``cost_view``: the twin's cost model without the twin (``fibsims.cost_models`` entry point).

Why: ``fibsims estimate`` needs only what each action takes and what the twin offers, and
opening the twin builds its phantom and imports its image physics (scipy), many times the work of
the estimate itself. The view is made of the very objects the factory wires into the instrument
(:class:`~fibsims_twin.costs.TwinCosts` on the state :func:`initial_state` makes, and
:func:`~fibsims_twin.capabilities.twin_capabilities`), so its estimate is the opened twin's.
This module and what it imports must stay free of numpy, scipy and the phantom at import (a
test holds them to it): the pure timing rules are in :mod:`fibsims_twin.timing`.
"""

from __future__ import annotations

from fibsims.instrument import CostView, InstrumentOptions
from fibsims_twin.capabilities import twin_capabilities
from fibsims_twin.costs import TwinCosts
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.state import TwinState


def initial_state(p: TwinParameters) -> TwinState:
    """The physical state a fresh twin opens in: the column at its initial current and
    voltage, the detector at unit gain, the stage at its default position."""
    return TwinState(
        current_na=p.column.initial_current_na,
        voltage_kv=p.column.voltage_kv,
        se_contrast=p.detector.contrast_at_unit_gain,
        se_brightness=p.detector.brightness_at_zero_offset,
    )


def cost_view(
    options: InstrumentOptions, parameters: TwinParameters | None = None
) -> CostView | None:
    """The twin's costs, capabilities and stage as :func:`~fibsims_twin.factory.create_instrument`
    would open them for ``options``; None for a restored sample (its stage is the snapshot's)
    or injected faults (they change what the devices do): open the twin for those."""
    if options.sample_state is not None or options.faults:
        return None
    p = parameters or TwinParameters()
    state = initial_state(p)
    return CostView(costs=TwinCosts(p, state), capabilities=twin_capabilities(p), stage=state.stage)
