"""The conformance kit's frame: settings, the report, and :func:`check_backend`.

Why a kit: the engine trusts every backend to keep the same contracts (a beam that blanks on
every path, a current that is a rung or a refusal, images shaped (height, width), time that
only moves forward). The engine tests pin them on a scripted fake and the twin has its own
tests, but a vendor bridge or a ZeroMQ proxy is only as good as the contracts it was checked
against. Each check here opens a fresh instrument, exercises one contract the way the engine
does, and reports passed, failed (naming the contract and the fix) or skipped (naming what the
backend lacks). The checks themselves are in :mod:`fibsims.testing.conformance_checks`,
:mod:`~fibsims.testing.conformance_settings` and :mod:`~fibsims.testing.conformance_scans`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from fibsims.instrument.capabilities import Capabilities, ScanCapabilities
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import Polarity

if TYPE_CHECKING:
    from fibsims.testing.conformance_checks import Check

FaultOpener = Callable[[str], Instrument]
"""Opens the backend with one injected fault of a kind in :data:`FAULT_KINDS`: its next mill
raises that fault. Only backends that can inject faults (the twin's fault plans) offer one."""


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class ContractBroken(Exception):
    """A check found the backend breaking its contract (the message says which and the fix)."""


class NotApplicable(Exception):
    """A check cannot run on this backend (an optional device or declaration is absent)."""


@dataclass(frozen=True)
class ConformanceSettings:
    """What the kit asks of the backend; the defaults suit the twin and a scrap area of a real
    sample (a 1 x 1 x 0.1 um cut, 24 x 16 px images at 1 us, a 10 um stage step).

    ``peaks`` must be labels the backend's spectrometer maps, in ``polarity``."""

    mill_current_na: float = 0.1
    """The rung nearest this is selected for milling and scanning."""
    pattern_size_um: tuple[float, float, float] = (1.0, 1.0, 0.1)
    """(width, height, depth) of the test cut."""
    pattern_front_z_um: float = 0.02
    image_resolution_px: tuple[int, int] = (24, 16)
    raster_resolution_px: tuple[int, int] = (8, 8)
    dwell_us: float = 1.0
    """Asked for, rounded up onto the declared dwell step when there is one."""
    frames: int = 2
    field_width_um: float = 10.0
    peaks: tuple[str, ...] = ("7Li+",)
    polarity: Polarity = Polarity.POSITIVE
    stage_step_um: float = 10.0
    beam_shift_um: tuple[float, float] = (1.5, -2.0)
    sleep_s: float = 0.05
    stage_tolerance_um: float = 0.1
    """Read-back tolerance when the backend declares none (its declaration wins)."""
    cost_tolerance: float = 0.05
    """A cost model's figure may differ from what the action took by this share."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    message: str = ""


@dataclass
class ConformanceReport:
    """Every check's outcome, in the order run. ``ok`` when none failed."""

    backend: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.FAILED]

    @property
    def passed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.PASSED]

    @property
    def skipped(self) -> list[CheckResult]:
        return [r for r in self.results if r.status is Status.SKIPPED]

    def result(self, name: str) -> CheckResult:
        """The outcome of the check ``name`` (KeyError if it was not run)."""
        for found in self.results:
            if found.name == name:
                return found
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [
            f"conformance of {self.backend!r}: {len(self.passed)} passed, "
            f"{len(self.failed)} failed, {len(self.skipped)} skipped"
        ]
        for r in self.results:
            lines.append(f"  {r.status.value:7} {r.name}" + (f": {r.message}" if r.message else ""))
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise AssertionError listing every failed check (for a backend's own tests)."""
        if self.failed:
            raise AssertionError(str(self))


class Probe:
    """What a check is handed: the instrument (opened on first use), the settings, and helpers
    that read the declared capabilities with the kit's fallbacks."""

    def __init__(
        self,
        open_instrument: Callable[[], Instrument],
        settings: ConformanceSettings,
        open_faulty: FaultOpener | None,
    ) -> None:
        self._open = open_instrument
        self._opened: list[Instrument] = []
        self.settings = settings
        self.open_faulty = open_faulty

    @property
    def instrument(self) -> Instrument:
        if not self._opened:
            self._opened.append(self._open())
        return self._opened[0]

    def adopt(self, instrument: Instrument) -> Instrument:
        """Close ``instrument`` (e.g. a faulty one) with the probe's own."""
        self._opened.append(instrument)
        return instrument

    def close(self) -> None:
        """Blank and close every opened instrument; raise the first error once all are done."""
        errors: list[Exception] = []
        for instrument in self._opened:
            for release in (instrument.column.blank, instrument.close):
                try:
                    release()
                except Exception as error:
                    errors.append(error)
        if errors:
            raise errors[0]

    @property
    def caps(self) -> Capabilities | None:
        return self.instrument.capabilities

    def need_caps(self, what: str) -> Capabilities:
        caps = self.caps
        if caps is None:
            raise NotApplicable(f"the backend declares no capabilities ({what})")
        return caps

    def dwell_us(self, scan: ScanCapabilities | None) -> float:
        """The settings' dwell, moved into the scan generator's range and onto its step."""
        dwell = self.settings.dwell_us
        if scan is None:
            return dwell
        dwell = max(dwell, scan.min_dwell_us)
        if scan.dwell_step_us:
            dwell = math.ceil(dwell / scan.dwell_step_us - 1e-9) * scan.dwell_step_us
        return min(dwell, scan.max_dwell_us)

    def field_width_um(self) -> float:
        caps = self.caps
        width = self.settings.field_width_um
        return width if caps is None else min(width, caps.max_field_width_um)

    def select_mill_current(self) -> float:
        """Select the rung nearest ``settings.mill_current_na``; return it."""
        column = self.instrument.column
        ladder = column.current_ladder_na()
        rung = min(ladder, key=lambda r: abs(r - self.settings.mill_current_na))
        return column.set_current_na(rung)


def expect(ok: bool, contract: str, got: str, fix: str) -> None:
    """Raise :class:`ContractBroken` ("contract; got ...; fix: ...") unless ``ok``."""
    if not ok:
        raise ContractBroken(f"{contract}; got {got}. Fix: {fix}")


def all_checks() -> list[Check]:
    """Every check, in the order the kit runs them (clock, blanking, faults, milling, then
    settings, then scans and devices)."""
    from fibsims.testing import (  # noqa: F401  (they register their checks)
        conformance_scans,
        conformance_settings,
    )
    from fibsims.testing.conformance_checks import CHECKS

    modules = [f"fibsims.testing.{name}" for name in _MODULE_ORDER]
    return sorted(CHECKS, key=lambda c: modules.index(c.run.__module__))


_MODULE_ORDER = ("conformance_checks", "conformance_settings", "conformance_scans")


def check_backend(
    open_instrument: Callable[[], Instrument],
    *,
    open_faulty: FaultOpener | None = None,
    settings: ConformanceSettings | None = None,
    only: Iterable[str] | None = None,
) -> ConformanceReport:
    """Run the conformance checks (``only`` those named, else all) against the backend that
    ``open_instrument`` opens, a fresh instrument per check; ``open_faulty`` adds the fault
    classification check. Never raises for a broken backend: the report says what broke."""
    checks = all_checks()
    wanted = None if only is None else set(only)
    unknown = (wanted or set()) - {c.name for c in checks}
    if unknown:
        raise KeyError(f"no conformance check named {sorted(unknown)}")
    report = ConformanceReport(backend="?")
    for check in checks:
        if wanted is None or check.name in wanted:
            result, name = run_check(check, open_instrument, settings, open_faulty)
            report.results.append(result)
            report.backend = name or report.backend
    return report


def run_check(
    check: Check,
    open_instrument: Callable[[], Instrument],
    settings: ConformanceSettings | None = None,
    open_faulty: FaultOpener | None = None,
) -> tuple[CheckResult, str | None]:
    """One check on a fresh instrument: its result, and the backend's name if it opened."""
    probe = Probe(open_instrument, settings or ConformanceSettings(), open_faulty)
    try:
        check.run(probe)
        result = CheckResult(check.name, Status.PASSED)
    except NotApplicable as skip:
        result = CheckResult(check.name, Status.SKIPPED, str(skip))
    except ContractBroken as broken:
        result = CheckResult(check.name, Status.FAILED, str(broken))
    except Exception as error:  # a crash breaks the contract too: the engine would see it
        result = CheckResult(
            check.name,
            Status.FAILED,
            f"{check.contract}; but it raised {type(error).__name__}: {error}. Fix: refuse "
            "with an error of fibsims.instrument.errors, or make the call succeed",
        )
    name = probe._opened[0].name if probe._opened else None
    try:
        probe.close()
    except Exception as error:
        if result.status is not Status.FAILED:
            result = CheckResult(
                check.name,
                Status.FAILED,
                f"blank() then close() must always succeed; close raised "
                f"{type(error).__name__}: {error}. Fix: make both safe after any call",
            )
    return result, name
