"""Shared fixtures of the twin's tests: a sample section, fresh twins, the default slice."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from fibsims.instrument import (
    InstrumentOptions,
    MillPattern,
    PatternKind,
    Polarity,
    RasterRequest,
    ScanRequest,
)
from fibsims_twin.factory import TwinInstrument, create_instrument
from fibsims_twin.parameters import TwinParameters

SAMPLE: dict[str, Any] = {
    "name": "NMC811 cathode",
    "twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.30},
}
SLICE_UM = 0.025
FULL_IMAGE = ScanRequest((1536, 1024), 3.0, 2, 20.0)
FULL_RASTER = RasterRequest(
    ScanRequest((256, 256), 50.0, 20, 20.0),
    Polarity.POSITIVE,
    ("7Li+", "6Li+", "58Ni+", "55Mn+", "59Co+"),
)
SMALL_IMAGE = ScanRequest((192, 128), 3.0, 2, 20.0)
SMALL_RASTER = dataclasses.replace(FULL_RASTER, scan=ScanRequest((64, 64), 50.0, 20, 20.0))

MakeTwin = Callable[..., TwinInstrument]


def quiet_parameters(**overrides: Any) -> TwinParameters:
    """Parameters with every secondary effect off (drift, emission noise, curtains, grain and
    edge contrast, amplifier noise), so a test sees one relation at a time; ``overrides``
    replaces whole parameter groups."""
    p = TwinParameters()
    quiet = TwinParameters(
        drift=dataclasses.replace(
            p.drift,
            drift_walk_nm_per_sqrt_min=0.0,
            thermal_drift_rate_nm_per_min=0.0,
            emission_fluctuation_fraction=0.0,
            focus_wander_um=0.0,
        ),
        milling=dataclasses.replace(
            p.milling, cut_placement_sigma_nm=0.0, curtain_contrast_rms=0.0
        ),
        detector=dataclasses.replace(
            p.detector,
            grain_channelling_contrast=0.0,
            edge_brightening_gain=0.0,
            amplifier_noise_counts=0.0,
        ),
        stage=dataclasses.replace(
            p.stage, rotation_backlash_deg=0.0, rotation_repeatability_deg=0.0
        ),
    )
    return dataclasses.replace(quiet, **overrides)


@pytest.fixture
def sample() -> dict[str, Any]:
    return {"name": SAMPLE["name"], "twin": dict(SAMPLE["twin"])}


@pytest.fixture
def make_twin() -> MakeTwin:
    def make(
        seed: int = 1,
        sample: Mapping[str, Any] | None = None,
        parameters: TwinParameters | None = None,
        start_time_s: float = 0.0,
    ) -> TwinInstrument:
        options = InstrumentOptions(seed=seed, sample=sample or SAMPLE, start_time_s=start_time_s)
        return create_instrument(options, parameters)

    return make


@pytest.fixture
def twin(make_twin: MakeTwin) -> TwinInstrument:
    return make_twin()


def mill_slice(twin: TwinInstrument, index: int, angles: tuple[float, ...] = (-20.0, 20.0)):
    """The default recipe's cut and rocking polish of slice ``index`` (engine's call order)."""
    column, stage = twin.column, twin.stage
    front = (index + 1) * SLICE_UM
    column.set_current_na(15.0)
    column.unblank()
    column.mill(MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20.0, 0.5, 16.0, front))
    column.set_current_na(4.0)
    home = stage.position()
    for angle in angles:
        column.blank()
        stage.move_to(dataclasses.replace(home, rotation_deg=home.rotation_deg + angle))
        column.unblank()
        column.mill(MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20.0, 0.1, 16.0, front))
    column.blank()
    stage.move_to(home)


def run_slice(twin, index, image=SMALL_IMAGE, raster=SMALL_RASTER, autofocus_every=10):
    """The default recipe's slice: cut, rocking polish, SE image, SIMS raster (with truth)."""
    mill_slice(twin, index)
    column = twin.column
    column.set_current_na(0.1)
    if index % autofocus_every == 0:
        column.unblank()
        column.autofocus()
        column.blank()
    column.unblank()
    img = twin.se_detector.acquire_image(image)
    image_truth = twin.truth.last_image_truth()
    column.blank()
    column.set_current_na(0.8)
    column.unblank()
    ras = twin.tof.acquire_raster(raster)
    raster_truth = twin.truth.last_raster_truth()
    column.blank()
    return img, ras, image_truth, raster_truth


class Kit:
    """The helpers above, handed to tests as the ``kit`` fixture (test modules are not
    importable under pytest's importlib mode)."""

    SAMPLE = SAMPLE
    SLICE_UM = SLICE_UM
    FULL_IMAGE = FULL_IMAGE
    FULL_RASTER = FULL_RASTER
    SMALL_IMAGE = SMALL_IMAGE
    SMALL_RASTER = SMALL_RASTER
    quiet_parameters = staticmethod(quiet_parameters)
    mill_slice = staticmethod(mill_slice)
    run_slice = staticmethod(run_slice)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit
