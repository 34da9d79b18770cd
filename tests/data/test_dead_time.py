"""The saturation and duty-cycle correction of the data path, on rasters of the twin: with what
the instrument reports on each raster, the corrected 6Li/7Li is the natural ratio."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fibsims.data.dead_time import correct_duty_cycle, correct_saturation, extractions_per_pixel
from fibsims.instrument import InstrumentOptions, Polarity, RasterRequest, ScanRequest
from fibsims.instrument.isotopes import ISOTOPES
from fibsims_twin import create_instrument
from fibsims_twin.parameters import TwinParameters

NATURAL_6LI_7LI = ISOTOPES["6Li"].abundance / ISOTOPES["7Li"].abundance  # 0.0821
SAMPLE = {"name": "NMC811 cathode", "twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.30}}
NMC = 1


def _corrected_ratio_over_nmc(
    current_na: float, single_ion_levels: float | None = None
) -> tuple[float, float, int]:
    """(raw, corrected) 6Li/7Li over NMC pixels of one raster, and the pixels capped;
    ``single_ion_levels`` replaces the single-ion pulse height (and so the ADC's range)."""
    p = TwinParameters()
    if single_ion_levels is not None:
        tof = dataclasses.replace(p.tof, single_ion_pulse_height_adc_levels=single_ion_levels)
        p = dataclasses.replace(p, tof=tof)
    twin = create_instrument(InstrumentOptions(seed=3, sample=SAMPLE), parameters=p)
    twin.column.set_current_na(current_na)
    twin.column.unblank()
    # the default recipe's SIMS settings (50 us, 20 frames, 78 nm pixels) on a smaller field
    scan = ScanRequest((96, 96), 50.0, 20, 7.5)
    raster = twin.tof.acquire_raster(RasterRequest(scan, Polarity.POSITIVE, ("6Li+", "7Li+")))
    nmc = twin.truth.last_raster_truth()["labels"] == NMC
    n = extractions_per_pixel(raster.dwell_us, raster.frames, raster.extraction_rate_hz)
    assert raster.max_ions_per_extraction is not None and raster.duty_cycles is not None
    corrected, capped = [], 0
    for counts, duty in zip(raster.count_maps, raster.duty_cycles, strict=True):
        unsaturated, lost = correct_saturation(counts, n, raster.max_ions_per_extraction)
        corrected.append(correct_duty_cycle(unsaturated, duty)[nmc].sum(dtype=np.float64))
        capped += lost
    raw = raster.count_maps[0][nmc].sum(dtype=np.float64) / raster.count_maps[1][nmc].sum(
        dtype=np.float64
    )
    return raw, corrected[0] / corrected[1], capped


def test_the_corrected_6li_7li_at_the_default_current_is_natural_within_3_percent() -> None:
    raw, corrected, capped = _corrected_ratio_over_nmc(0.3)
    assert capped == 0
    assert corrected == pytest.approx(NATURAL_6LI_7LI, rel=0.03)
    assert abs(raw / NATURAL_6LI_7LI - 1) > 0.05  # the raw maps do not: the duty cycle


def test_the_correction_recovers_the_ratio_where_the_digitiser_saturates() -> None:
    # a digitiser range of 5 ions (a 12.75x larger single-ion pulse): 7Li+ clips on most of NMC
    # (its window holds 0.699 of the tailed peak: a few ions per extraction on this field)
    raw, corrected, capped = _corrected_ratio_over_nmc(0.3, single_ion_levels=51.0)
    assert raw > 1.08 * NATURAL_6LI_7LI  # 7Li+ fills the ADC's range first
    assert capped < 20
    assert corrected == pytest.approx(NATURAL_6LI_7LI, rel=0.03)
