"""The conformance checks, one contract each, in the order the kit runs them.

Every check exercises the backend the way the engine does (select a current, unblank, act,
blank in a ``finally``) and names, when it fails, the contract and the fix. The clock, the
blanking, fault classes, milling and autofocus are checked here; what settings read back
(currents, voltage, detector levels, stage, beam shift) in
:mod:`fibsims.testing.conformance_settings`; acquisitions, capabilities and the optional
devices in :mod:`fibsims.testing.conformance_scans`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from fibsims.instrument.errors import (
    HardwareFault,
    InstrumentError,
    SafetyInterlock,
    TransientInstrumentError,
)
from fibsims.instrument.types import MillPattern, MillResult, PatternKind
from fibsims.testing.conformance import NotApplicable, Probe, expect

FAULT_KINDS: dict[str, type[InstrumentError]] = {
    "transient": TransientInstrumentError,
    "hardware_fault": HardwareFault,
    "interlock": SafetyInterlock,
}
"""The fault kinds a faulty opener injects, and the class the engine's error policy needs for
each (retry, pause, abort: :mod:`fibsims.engine.policy`)."""

ERRORS_FIX = "raise an error of fibsims.instrument.errors (InstrumentError or a subclass)"


@dataclass(frozen=True)
class Check:
    name: str
    contract: str
    run: Callable[[Probe], None]


CHECKS: list[Check] = []


def check(name: str, contract: str) -> Callable[[Callable[[Probe], None]], Callable[[Probe], None]]:
    """Register a check (the kit runs them in registration order)."""

    def register(function: Callable[[Probe], None]) -> Callable[[Probe], None]:
        CHECKS.append(Check(name, contract, function))
        return function

    return register


def raises(call: Callable[[], object], contract: str, fix: str = ERRORS_FIX) -> InstrumentError:
    """The InstrumentError ``call`` raises; a return or another exception breaks ``contract``."""
    try:
        returned = call()
    except InstrumentError as error:
        return error
    except Exception as error:
        expect(False, contract, f"{type(error).__name__}: {error}", fix)
        raise AssertionError("unreachable") from None
    expect(False, contract, f"it returned {brief(returned)} without refusing", fix)
    raise AssertionError("unreachable")


def brief(value: object, limit: int = 160) -> str:
    """``repr(value)``, cut short (a returned image would print its pixels)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... (a {type(value).__name__})"


def close(a: float, b: float, tolerance: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= tolerance


def test_pattern(probe: Probe, **changes: float) -> MillPattern:
    width, height, depth = probe.settings.pattern_size_um
    pattern = MillPattern(
        PatternKind.CLEANING_CROSS_SECTION, width, height, depth, probe.settings.pattern_front_z_um
    )
    return replace(pattern, **changes)


def blanked_reads_true(probe: Probe, after: str) -> None:
    column = probe.instrument.column
    for attempt in ("blank()", "a second blank()"):
        column.blank()
        expect(
            column.is_blanked() is True,
            f"after {after}, {attempt} must leave the beam blanked (is_blanked() True)",
            f"is_blanked() = {column.is_blanked()!r}",
            "make blank() act unconditionally, whatever state an earlier call left the column in",
        )


# --- clock ---------------------------------------------------------------------------------


@check("clock_monotonic_and_sleep_advances", "now_s() never goes back and sleep(s) takes >= s")
def clock_monotonic(probe: Probe) -> None:
    clock = probe.instrument.clock
    readings = [clock.now_s() for _ in range(3)]
    expect(
        all(math.isfinite(t) for t in readings) and readings == sorted(readings),
        "Clock.now_s() is monotonic instrument time in seconds",
        f"readings {readings}",
        "read a monotonic clock (time.monotonic() plus the session's start_time_s on hardware)",
    )
    before = clock.now_s()
    clock.sleep(probe.settings.sleep_s)
    advanced = clock.now_s() - before
    expect(
        advanced >= probe.settings.sleep_s * (1 - 1e-9),
        f"Clock.sleep({probe.settings.sleep_s:g}) advances instrument time by at least that",
        f"{advanced:g} s",
        "block for the full duration (the twin advances its virtual clock)",
    )


# --- blanking ------------------------------------------------------------------------------


@check("blank_reads_back_and_is_idempotent", "blank()/unblank() read back through is_blanked()")
def blank_reads_back(probe: Probe) -> None:
    column = probe.instrument.column
    column.unblank()
    expect(
        column.is_blanked() is False,
        "after unblank(), is_blanked() reads False",
        repr(column.is_blanked()),
        "read the blanker's state back from the column, not a cached guess",
    )
    blanked_reads_true(probe, "unblank()")


@check("blank_after_mill_completes", "the beam blanks after a completed mill")
def blank_after_mill(probe: Probe) -> None:
    column = probe.instrument.column
    probe.select_mill_current()
    column.unblank()
    try:
        column.mill(test_pattern(probe))
    finally:
        column.blank()
    blanked_reads_true(probe, "a completed mill")


@check("blank_after_mill_raises", "a refused mill raises InstrumentError and blank() still works")
def blank_after_failed_mill(probe: Probe) -> None:
    column = probe.instrument.column
    probe.select_mill_current()
    column.blank()
    raises(
        lambda: column.mill(test_pattern(probe)),
        "IonColumn.mill() with the beam blanked must refuse (the beam must be unblanked)",
        "check is_blanked() first and raise InstrumentError naming unblank()",
    )
    column.unblank()
    raises(
        lambda: column.mill(test_pattern(probe, width_um=-1.0)),
        "IonColumn.mill() of a pattern with a negative width must refuse",
        "validate the pattern's sizes (positive, finite) and raise InstrumentError",
    )
    blanked_reads_true(probe, "a mill that raised")


@check(
    "blank_after_acquisition_raises",
    "a refused acquisition raises InstrumentError and blank() still works",
)
def blank_after_failed_acquisition(probe: Probe) -> None:
    from fibsims.instrument.types import ScanRequest

    column = probe.instrument.column
    probe.select_mill_current()
    column.unblank()
    request = ScanRequest((8, 8), -1.0, 1, probe.field_width_um())
    raises(
        lambda: probe.instrument.se_detector.acquire_image(request),
        "SEDetector.acquire_image() with a negative dwell must refuse",
        "validate dwell_us (positive, in range) and raise InstrumentError",
    )
    blanked_reads_true(probe, "an acquisition that raised")


@check("faults_are_classified", "injected faults raise the class the engine's policy acts on")
def faults_classified(probe: Probe) -> None:
    if probe.open_faulty is None:
        raise NotApplicable("no fault opener given (open_faulty): faults cannot be injected")
    for kind, expected in FAULT_KINDS.items():
        instrument = probe.adopt(probe.open_faulty(kind))
        column = instrument.column
        wanted = probe.settings.mill_current_na
        column.set_current_na(min(column.current_ladder_na(), key=lambda r: abs(r - wanted)))
        column.unblank()
        try:
            error = raises(
                lambda column=column: column.mill(test_pattern(probe)),
                f"a backend opened with a {kind!r} fault raises it on the next mill",
                "fire the injected fault on the next mill",
            )
        finally:
            column.blank()
        wrong_class = not isinstance(error, expected) or (
            expected is HardwareFault and isinstance(error, TransientInstrumentError)
        )
        expect(
            not wrong_class,
            f"a {kind!r} fault is a {expected.__name__} (the engine "
            f"{'retries' if expected is TransientInstrumentError else 'stops'} on it)",
            f"{type(error).__name__}: {error}",
            f"raise fibsims.instrument.errors.{expected.__name__} for this fault",
        )
        expect(
            column.is_blanked() is True,
            f"blank() after a {kind!r} fault leaves the beam blanked",
            f"is_blanked() = {column.is_blanked()!r}",
            "make blank() act after any fault",
        )


# --- milling -------------------------------------------------------------------------------


@check("mill_result_matches_the_request", "a MillResult's time, current and dose are consistent")
def mill_result(probe: Probe) -> None:
    column, clock = probe.instrument.column, probe.instrument.clock
    rung = probe.select_mill_current()
    pattern = test_pattern(probe)
    column.unblank()
    t0 = clock.now_s()
    try:
        result = column.mill(pattern)
    finally:
        column.blank()
    elapsed = clock.now_s() - t0
    expect(
        isinstance(result, MillResult),
        "IonColumn.mill() returns a MillResult",
        type(result).__name__,
        "return fibsims.instrument.MillResult",
    )
    expect(
        math.isfinite(result.duration_s) and result.duration_s > 0,
        "MillResult.duration_s is the positive time the pattern took, in s",
        repr(result.duration_s),
        "report the pattern's time in seconds",
    )
    expect(
        elapsed >= result.duration_s * (1 - 1e-6),
        "a mill blocks for its duration on the instrument clock",
        f"clock advanced {elapsed:g} s for a {result.duration_s:g} s mill",
        "wait for the pattern to finish before returning",
    )
    expect(
        close(result.current_na, rung, 1e-6 * rung),
        f"MillResult.current_na is the selected rung ({rung:g} nA)",
        repr(result.current_na),
        "report the selected current in nA (not pA or A)",
    )
    nominal_nc = rung * result.duration_s
    expect(
        math.isfinite(result.dose_nc) and 0.5 * nominal_nc <= result.dose_nc <= 1.5 * nominal_nc,
        "MillResult.dose_nc is about current x time, in nC",
        f"{result.dose_nc!r} nC for {rung:g} nA x {result.duration_s:g} s = {nominal_nc:g} nC",
        "report the charge in nC (nA x s)",
    )
    expect(
        math.isfinite(result.face_z_um),
        "MillResult.face_z_um is where the face stands on the slicing axis, in um",
        repr(result.face_z_um),
        "report the front of the deepest cut so far (the pattern's front_z_um)",
    )


@check("autofocus_reports_time", "autofocus takes its duration; defocus values are None or finite")
def autofocus(probe: Probe) -> None:
    column, clock = probe.instrument.column, probe.instrument.clock
    probe.select_mill_current()
    column.unblank()
    t0 = clock.now_s()
    try:
        result = column.autofocus()
    finally:
        column.blank()
    elapsed = clock.now_s() - t0
    expect(
        math.isfinite(result.duration_s) and 0 <= result.duration_s <= elapsed * (1 + 1e-6),
        "FocusResult.duration_s is the routine's time in s, spent on the instrument clock",
        f"duration {result.duration_s!r} s, clock advanced {elapsed:g} s",
        "block for the routine and report its time",
    )
    for name in ("defocus_before_um", "defocus_after_um"):
        value = getattr(result, name)
        expect(
            value is None or math.isfinite(value),
            f"FocusResult.{name} is None (not reported) or a finite um",
            repr(value),
            "leave it None when the vendor routine does not say",
        )
