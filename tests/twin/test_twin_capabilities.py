"""The twin declares what its devices accept, and its devices refuse what it does not declare."""

from __future__ import annotations

import pytest

from fibsims.instrument import InstrumentError, Polarity, RasterRequest, ScanRequest


def test_the_declared_ladder_is_the_ladder_the_column_selects_from(twin) -> None:
    caps = twin.capabilities
    assert caps is not None
    assert caps.current_ladder_na == tuple(twin.column.current_ladder_na())
    assert caps.rung_for(13.7) is None
    with pytest.raises(InstrumentError, match="4 nA and 15 nA"):
        twin.column.set_current_na(13.7)


@pytest.mark.parametrize(
    ("scan", "says"),
    [
        (ScanRequest((8193, 16), 1.0, 1, 20.0), "larger than the scan generator's largest"),
        (ScanRequest((64, 64), 30_000.0, 1, 20.0), "above the scan generator's 25000 us"),
        (ScanRequest((64, 64), 1.0, 1, 2500.0), "wider than the column's 2000 um field"),
    ],
    ids=["resolution", "dwell", "field"],
)
def test_an_image_beyond_the_declared_scan_is_refused(twin, scan, says) -> None:
    twin.column.unblank()
    with pytest.raises(InstrumentError, match=says):
        twin.se_detector.acquire_image(scan)


def test_a_raster_beyond_the_declared_raster_is_refused(twin) -> None:
    twin.column.unblank()
    request = RasterRequest(ScanRequest((2049, 8), 1.0, 1, 20.0), Polarity.POSITIVE, ("7Li+",))
    with pytest.raises(InstrumentError, match=r"SIMS raster: resolution \[2049, 8\]"):
        twin.tof.acquire_raster(request)


def test_a_scan_centre_offset_moves_the_field_on_the_sample(twin) -> None:
    twin.column.unblank()
    twin.se_detector.acquire_image(ScanRequest((32, 24), 1.0, 1, 10.0))
    centred = twin.truth.last_geometry()
    twin.se_detector.acquire_image(ScanRequest((32, 24), 1.0, 1, 10.0, center_x_um=4.0))
    moved = twin.truth.last_geometry()
    drift = moved.drift_um[0] - centred.drift_um[0]
    assert moved.field_center_um[0] - centred.field_center_um[0] == pytest.approx(4.0 - drift)
    assert moved.field_center_um[1] == pytest.approx(
        centred.field_center_um[1] - (moved.drift_um[1] - centred.drift_um[1])
    )


def test_an_image_between_the_declared_dwell_steps_is_refused_not_rounded(twin) -> None:
    step = twin.capabilities.se_scan.dwell_step_us
    twin.column.unblank()
    with pytest.raises(InstrumentError, match="not a multiple of the scan generator's"):
        twin.se_detector.acquire_image(ScanRequest((8, 8), 1.0 + step / 2, 1, 10.0))
