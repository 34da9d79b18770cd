"""The kit must be able to fail: the twin, each time broken in one way a real backend could
be, fails exactly the check for that contract, with a message naming the contract and a fix.

Each breakage patches one method of a fresh twin (the other checks still see a sound backend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from tests.engine.conftest import make_fake_instrument
from tests.testing.test_conformance_twin import open_faulty_twin, open_twin

from fibsims.instrument import (
    HardwareFault,
    Instrument,
    InstrumentError,
    TransientInstrumentError,
)
from fibsims.testing import ConformanceReport, Status, check_backend
from fibsims.testing.conformance import run_check


def forgets_to_blank_after_a_failed_mill(instrument: Instrument) -> None:
    """A column that ignores commands after a refused mill until something resets it."""
    column = instrument.column
    mill, blank = column.mill, column.blank
    stuck = []

    def failing_mill(pattern):
        try:
            return mill(pattern)
        except InstrumentError:
            stuck.append(True)
            raise

    column.mill = failing_mill
    column.blank = lambda: None if stuck else blank()


def swaps_the_image_shape(instrument: Instrument) -> None:
    acquire = instrument.se_detector.acquire_image
    instrument.se_detector.acquire_image = lambda request: replace(
        acquire(request), pixels=acquire(request).pixels.T.copy()
    )


def snaps_a_far_current_silently(instrument: Instrument) -> None:
    column = instrument.column
    select = column.set_current_na
    column.set_current_na = lambda na: select(
        min(column.current_ladder_na(), key=lambda r: abs(r - na))
    )


def refuses_with_a_bare_exception(instrument: Instrument) -> None:
    column = instrument.column
    select = column.set_current_na

    def set_current_na(na: float) -> float:
        if na > max(column.current_ladder_na()):
            raise ValueError("no such aperture")
        return select(na)

    column.set_current_na = set_current_na


def sleeps_without_advancing_the_clock(instrument: Instrument) -> None:
    instrument.clock.sleep = lambda seconds: None


def reports_mill_current_in_pa(instrument: Instrument) -> None:
    mill = instrument.column.mill
    instrument.column.mill = lambda p: replace(mill(p), current_na=mill(p).current_na * 1000)


def reports_an_image_faster_than_its_pixels(instrument: Instrument) -> None:
    acquire = instrument.se_detector.acquire_image
    instrument.se_detector.acquire_image = lambda r: replace(acquire(r), duration_s=0.0)


def reads_back_beam_shift_in_nm(instrument: Instrument) -> None:
    shift = instrument.column.beam_shift_um
    instrument.column.beam_shift_um = lambda: tuple(v * 1000 for v in shift())


def rounds_an_off_step_dwell_silently(instrument: Instrument) -> None:
    step = instrument.capabilities.se_scan.dwell_step_us
    acquire = instrument.se_detector.acquire_image
    instrument.se_detector.acquire_image = lambda r: acquire(
        replace(r, dwell_us=round(r.dwell_us / step) * step)
    )


def reads_the_measured_current_in_pa(instrument: Instrument) -> None:
    measured = instrument.column.measured_current_na
    instrument.column.measured_current_na = lambda: measured() * 1000


def reads_contrast_in_percent(instrument: Instrument) -> None:
    contrast = instrument.se_detector.contrast
    instrument.se_detector.contrast = lambda: contrast() * 100


def clamps_a_voltage_beyond_the_range(instrument: Instrument) -> None:
    column = instrument.column
    ramp = column.set_voltage_kv
    column.set_voltage_kv = lambda kv: ramp(min(kv, instrument.capabilities.voltage_range_kv[1]))


BREAKAGES: list[tuple[Callable[[Instrument], None], str, str]] = [
    (forgets_to_blank_after_a_failed_mill, "blank_after_mill_raises", "leave the beam blanked"),
    (swaps_the_image_shape, "image_shape_units_and_time", "shape (height, width)"),
    (snaps_a_far_current_silently, "current_far_off_ladder_is_refused", "without refusing"),
    (refuses_with_a_bare_exception, "current_far_off_ladder_is_refused", "ValueError"),
    (sleeps_without_advancing_the_clock, "clock_monotonic_and_sleep_advances", "at least"),
    (reports_mill_current_in_pa, "mill_result_matches_the_request", "not pA or A"),
    (reports_an_image_faster_than_its_pixels, "image_shape_units_and_time", "pixels x dwell"),
    (rounds_an_off_step_dwell_silently, "dwell_off_the_step_is_refused", "without refusing"),
    (reads_the_measured_current_in_pa, "measured_current_follows_the_rung", "in nA"),
    (reads_contrast_in_percent, "detector_levels_read_back", "reads back the 0.25"),
    (
        clamps_a_voltage_beyond_the_range,
        "voltage_reads_back_and_out_of_range_is_refused",
        "without refusing",
    ),
    (reads_back_beam_shift_in_nm, "beam_shift_reads_back_within_range", "reads back"),
]


def broken(breakage: Callable[[Instrument], None]) -> Callable[[], Instrument]:
    def open_broken() -> Instrument:
        instrument = open_twin()
        breakage(instrument)
        return instrument

    return open_broken


@pytest.mark.parametrize(
    ("breakage", "check", "phrase"), BREAKAGES, ids=[b.__name__ for b, _, _ in BREAKAGES]
)
def test_a_broken_backend_fails_the_check_for_its_contract(breakage, check, phrase):
    report = check_backend(broken(breakage), only=[check])
    (result,) = report.results
    assert result.status is Status.FAILED, str(report)
    assert phrase in result.message
    assert "Fix: " in result.message
    assert not report.ok


def test_a_hardware_fault_raised_as_transient_fails_the_classification():
    def open_misclassifying(kind: str) -> Instrument:
        instrument = open_faulty_twin(kind)
        mill = instrument.column.mill

        def mill_retrying(pattern):
            try:
                return mill(pattern)
            except HardwareFault as fault:
                raise TransientInstrumentError(str(fault)) from None

        instrument.column.mill = mill_retrying
        return instrument

    report = check_backend(
        open_twin, open_faulty=open_misclassifying, only=["faults_are_classified"]
    )
    (result,) = report.failed
    assert "'hardware_fault' fault is a HardwareFault" in result.message
    assert "TransientInstrumentError" in result.message


def test_the_engine_tests_scripted_fake_snaps_currents_and_declares_nothing():
    """The engine's fake is a sketch, not a backend: the kit says where it falls short."""
    report: ConformanceReport = check_backend(make_fake_instrument)
    assert {r.name for r in report.failed} == {
        "blank_after_mill_raises",
        "blank_after_acquisition_raises",
        "current_far_off_ladder_is_refused",
    }
    assert "resolution_beyond_capabilities_is_refused" in {r.name for r in report.skipped}


def test_a_check_name_the_kit_does_not_have_is_refused():
    with pytest.raises(KeyError, match="no conformance check named"):
        check_backend(open_twin, only=["blank_twice"])


def test_a_crash_while_opening_is_a_failed_check_not_a_crashed_kit():
    def cannot_open() -> Instrument:
        raise RuntimeError("no licence")

    from fibsims.testing.conformance_checks import CHECKS

    result, name = run_check(CHECKS[0], cannot_open)
    assert result.status is Status.FAILED and "RuntimeError: no licence" in result.message
    assert name is None


def test_a_backend_that_cannot_close_fails_the_check_it_passed():
    def open_unclosable() -> Instrument:
        instrument = open_twin()

        def close() -> None:
            raise InstrumentError("link already gone")

        instrument.close = close
        return instrument

    report = check_backend(open_unclosable, only=["clock_monotonic_and_sleep_advances"])
    (result,) = report.failed
    assert "close raised InstrumentError: link already gone" in result.message
