"""Shared fixtures of the twin's tests: a sample section and a factory of fresh twins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from fibsims.instrument import InstrumentOptions
from fibsims_twin.factory import TwinInstrument, create_instrument
from fibsims_twin.parameters import TwinParameters

SAMPLE: dict[str, Any] = {
    "name": "NMC811 cathode",
    "twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.30},
}

MakeTwin = Callable[..., TwinInstrument]


@pytest.fixture
def sample() -> dict[str, Any]:
    return {"name": SAMPLE["name"], "twin": dict(SAMPLE["twin"])}


@pytest.fixture
def make_twin() -> MakeTwin:
    def make(
        seed: int = 1,
        sample: Mapping[str, Any] | None = None,
        parameters: TwinParameters | None = None,
    ) -> TwinInstrument:
        return create_instrument(InstrumentOptions(seed=seed, sample=sample or SAMPLE), parameters)

    return make


@pytest.fixture
def twin(make_twin: MakeTwin) -> TwinInstrument:
    return make_twin()
