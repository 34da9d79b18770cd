"""Every interface method over a real loopback socket gives what the instrument returned, and
device errors arrive as the same error classes."""

from __future__ import annotations

import numpy as np
import pytest
from tests.instrument.transport.conftest import GEOMETRY, SAMPLE_STATE

from fibsims.instrument import (
    FocusResult,
    HardwareFault,
    InstrumentError,
    InstrumentOptions,
    MillPattern,
    PatternKind,
    Polarity,
    RasterRequest,
    SafetyInterlock,
    ScanRequest,
    StagePosition,
    TransientInstrumentError,
)
from fibsims.instrument.transport import connect
from fibsims.instrument.transport.derived import METHODS

OPTIONS = InstrumentOptions(
    seed=7,
    sample={"name": "x", "twin": {"seed": 3}},
    start_time_s=12.5,
    faults=({"kind": "transient", "count": 1},),
)
SCAN = ScanRequest(resolution_px=(6, 4), dwell_us=3.0, frames=2, field_width_um=20.0)


@pytest.fixture
def remote(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    yield instrument, factory, server
    instrument.close()


def test_the_session_is_built_from_the_options_the_client_sent(remote):
    instrument, factory, _ = remote
    options, _ = factory.opened[0]
    assert options == OPTIONS
    assert instrument.name == "fake" and instrument.column.ion_species == "Xe"
    assert instrument.clock.now_s() == 12.5


def test_every_method_round_trips(remote):
    instrument, _, server = remote
    column, stage = instrument.column, instrument.stage
    assert instrument.clock.now_s() == 12.5
    assert column.voltage_kv() == 30.0
    column.set_voltage_kv(5.0)
    assert column.voltage_kv() == 5.0
    assert list(column.current_ladder_na()) == [0.1, 0.8, 4.0, 15.0]
    assert column.set_current_na(14.0) == 15.0 and column.current_na() == 15.0
    assert column.measured_current_na() == pytest.approx(15.0 * 0.98)
    assert column.is_blanked()
    column.unblank()
    assert not column.is_blanked()
    column.blank()
    column.set_beam_shift_um((0.25, -1.5))
    assert column.beam_shift_um() == (0.25, -1.5)
    pattern = MillPattern(
        kind=PatternKind.CLEANING_CROSS_SECTION,
        width_um=20,
        height_um=15,
        depth_um=18,
        front_z_um=0.025,
    )
    result = column.mill(pattern)
    assert (result.face_z_um, result.dose_nc, result.current_na) == (0.025, 1 / 3, 15.0)
    focus = column.autofocus()
    assert (focus.defocus_before_um, focus.defocus_after_um) == (0.1234567890123, -1e-300)
    target = StagePosition(x_um=1.0, rotation_deg=-20.0)
    assert stage.move_to(target) == target and stage.position() == target
    instrument.clock.sleep(2.5)
    detector = instrument.se_detector
    detector.set_contrast(0.75)
    detector.set_brightness(0.0)
    assert (detector.contrast(), detector.brightness()) == (0.75, 0.0)
    image = instrument.se_detector.acquire_image(SCAN)
    assert image.pixels.dtype == np.uint16 and image.pixels.shape == (4, 6)
    assert image.pixels[1, 2] == (8 * 7919) % 65536 and image.saturated_fraction == 0.01
    raster = instrument.tof.acquire_raster(RasterRequest(SCAN, Polarity.POSITIVE, ("7Li+",)))
    assert raster.count_maps.dtype == np.uint32 and raster.count_maps.shape == (1, 4, 6)
    assert raster.count_maps[0, 3, 5] == 23 * 65537
    assert raster.spectrum.counts.dtype == np.float64
    assert raster.spectrum.mass_axis_u.dtype == np.float32
    assert raster.saturated_lines.tolist() == [0, 1, 0, 1]
    assert raster.peaks[0].label == "7Li+"
    assert instrument.vacuum is not None and instrument.vacuum.chamber_pressure_pa() == 2.5e-4
    assert instrument.truth is not None
    assert instrument.truth.last_raster_truth()["labels"].shape == (3, 3)
    assert instrument.truth.last_image_truth()["int64"].shape == (2, 3, 4)
    assert instrument.truth.last_geometry() == GEOMETRY
    assert instrument.truth.sample_state() == SAMPLE_STATE
    _ask_every_cost(instrument)
    executed = set(server.stats()["executed"])
    wire_names = set(METHODS) - {"column.ion_species"}  # read once, at session.open
    assert wire_names <= executed, f"not exercised: {wire_names - executed}"


def test_device_errors_keep_their_class_and_message(remote):
    instrument, factory, _ = remote
    script = factory.script
    for error in (
        InstrumentError("no"),
        HardwareFault("vacuum"),
        SafetyInterlock("door"),
        TransientInstrumentError("busy"),
    ):
        script.fail["column.mill"] = [error]
        with pytest.raises(type(error), match=str(error)):
            instrument.column.mill(MillPattern(PatternKind.BOX, 1.0, 1.0, 1.0, front_z_um=0.1))
    assert instrument.link.lost is None, "a device error does not end the link"


def test_a_transient_failure_of_a_read_is_retried_but_one_of_an_action_is_not(remote):
    instrument, factory, _ = remote
    script = factory.script
    script.fail["stage.position"] = [TransientInstrumentError("busy")] * 2
    assert instrument.stage.position() == StagePosition()
    assert script.calls["stage.position"] == 3
    script.fail["column.unblank"] = [TransientInstrumentError("busy")]
    with pytest.raises(TransientInstrumentError):
        instrument.column.unblank()
    assert script.calls["column.unblank"] == 1


def test_closing_ends_the_session_on_the_server(serve, factory, fast):
    server = serve(factory)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    instrument.close()
    assert server.stats()["executed"]["session.close"] == 1
    assert len(server.dispatcher.sessions) == 0


def _ask_every_cost(instrument) -> list[float]:
    costs = instrument.costs
    assert costs is not None
    raster = RasterRequest(SCAN, Polarity.NEGATIVE, ("7Li-", "16O-", "19F-"))
    return [
        costs.mill_s(MillPattern(PatternKind.BOX, 20.0, 15.0, 18.0, front_z_um=0.075), 15.0),
        costs.image_s(SCAN),
        costs.raster_s(raster),
        costs.move_s(StagePosition(x_um=1.0), StagePosition(x_um=-2.5, rotation_deg=20.0)),
        costs.current_change_s(),
        costs.autofocus_s(),
        costs.spectrum_samples(raster),
    ]


def test_a_remote_cost_model_gives_the_in_process_figures_exactly(remote):
    instrument, factory, _ = remote
    remote_figures = _ask_every_cost(instrument)
    local_figures = _ask_every_cost(factory.opened[0][1])
    assert remote_figures == local_figures
    assert type(remote_figures[-1]) is int


def test_an_instrument_without_a_cost_model_has_none_remotely(serve, factory, fast):
    def no_costs(options):
        instrument = factory(options)
        instrument.costs = None
        return instrument

    server = serve(no_costs)
    instrument = connect(server.endpoint, OPTIONS, settings=fast)
    try:
        assert instrument.costs is None and instrument.truth is not None
    finally:
        instrument.close()


def test_an_autofocus_that_reports_no_defocus_arrives_as_none(remote):
    instrument, factory, _ = remote
    (_, served), *_ = factory.opened
    served.column.autofocus = lambda: FocusResult(duration_s=12.0)
    focus = instrument.column.autofocus()
    assert focus == FocusResult(duration_s=12.0, defocus_before_um=None, defocus_after_um=None)
