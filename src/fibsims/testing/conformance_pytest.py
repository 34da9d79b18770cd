"""The conformance kit for pytest: a parametrised test to import, and a plugin fixture.

A backend's own tests need about five lines::

    from fibsims.testing import conformance_tests
    from my_backend import open_my_instrument

    test_conformance = conformance_tests(open_my_instrument)

which collects one test per check (``test_conformance[blank_after_mill_raises]``, ...), failed
with the contract and the fix, or skipped with what the backend lacks. The ``fibsims_conformance``
fixture (this module is registered as the ``pytest11`` plugin ``fibsims_conformance``) runs
the whole kit in one test instead: ``fibsims_conformance(open_my_instrument).raise_for_failures()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fibsims.instrument.interfaces import Instrument
from fibsims.testing.conformance import (
    ConformanceSettings,
    FaultOpener,
    Status,
    all_checks,
    check_backend,
    run_check,
)


def conformance_tests(
    open_instrument: Callable[[], Instrument],
    *,
    open_faulty: FaultOpener | None = None,
    settings: ConformanceSettings | None = None,
) -> Callable[[str], None]:
    """A test function parametrised over every check, for a backend's test module."""
    checks = {check.name: check for check in all_checks()}

    @pytest.mark.parametrize("check_name", list(checks))
    def test_backend_conforms(check_name: str) -> None:
        result, _ = run_check(checks[check_name], open_instrument, settings, open_faulty)
        if result.status is Status.SKIPPED:
            pytest.skip(result.message)
        if result.status is Status.FAILED:
            pytest.fail(result.message, pytrace=False)

    return test_backend_conforms


@pytest.fixture
def fibsims_conformance() -> Callable[..., Any]:
    """:func:`~fibsims.testing.check_backend`, for a test that runs the whole kit at once."""
    return check_backend
