"""The twin's cost view is what the opened twin carries: its costs, capabilities and stage."""

from __future__ import annotations

from tests.twin.conftest import FULL_IMAGE, FULL_RASTER, SAMPLE

from fibsims.instrument import InstrumentOptions
from fibsims_twin.cost_view import cost_view
from fibsims_twin.factory import create_instrument


def test_the_cost_view_is_the_opened_twins_costs_capabilities_and_stage() -> None:
    options = InstrumentOptions(seed=7, sample=SAMPLE)
    view, twin = cost_view(options), create_instrument(options)
    assert view is not None and twin.costs is not None
    assert view.capabilities == twin.capabilities
    assert view.stage == twin.stage.position()
    assert view.costs.image_s(FULL_IMAGE) == twin.costs.image_s(FULL_IMAGE)
    assert view.costs.raster_s(FULL_RASTER) == twin.costs.raster_s(FULL_RASTER)
    assert view.costs.autofocus_s() == twin.costs.autofocus_s()
