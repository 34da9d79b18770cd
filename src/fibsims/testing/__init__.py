"""Tools for testing fibsims backends: the conformance kit, and fakes derived from the
interfaces (:mod:`fibsims.testing.fakes`).

``check_backend(open_instrument)`` runs every contract the engine relies on against a backend
and returns a :class:`ConformanceReport`; ``conformance_tests(open_instrument)`` makes the same
checks a parametrised pytest test (one test per check) for a backend's own test suite. See
docs/conformance.md.

The core (``fibsims.engine``, ``fibsims.instrument``, ...) never imports this package.
"""

from __future__ import annotations

from typing import Any

from fibsims.testing.conformance import (
    CheckResult,
    ConformanceReport,
    ConformanceSettings,
    FaultOpener,
    Status,
    all_checks,
    check_backend,
)

__all__ = [
    "CheckResult",
    "ConformanceReport",
    "ConformanceSettings",
    "FaultOpener",
    "Status",
    "all_checks",
    "check_backend",
    "conformance_tests",
]


def __getattr__(name: str) -> Any:
    if name == "conformance_tests":  # imports pytest: only when asked for
        from fibsims.testing.conformance_pytest import conformance_tests

        return conformance_tests
    raise AttributeError(name)
