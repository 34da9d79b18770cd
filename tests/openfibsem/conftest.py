"""Fixtures of the openfibsem backend's tests: OpenFIBSEM's headless ``DemoMicroscope``.

``open_openfibsem`` is the one way these tests open the backend (the conformance kit can call
it too). The demo microscope sleeps in wall time to imitate hardware (1 s a stage move, 5 s a
pattern, the scan's dwell); fibsem's own switch ``FIBSEM_SIM_NO_DELAY=1`` turns those sleeps
off, and every test here sets it. Tests that need fibsem skip, saying why, when it is not
importable; ``make test`` installs it (the ``test`` extra pulls in ``fibsem``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from fibsims.instrument import Instrument, InstrumentOptions, open_instrument


def _fibsem_missing() -> bool:
    try:
        return importlib.util.find_spec("fibsem") is None
    except (ImportError, ValueError):  # a module blocked in sys.modules
        return True


FIBSEM_MISSING = _fibsem_missing()
SKIP_REASON = "OpenFIBSEM (PyPI fibsem) is not installed: pip install 'fibsims[openfibsem]'"
BACKEND_ENV = (
    "FIBSIMS_OPENFIBSEM_CONFIG",
    "FIBSIMS_OPENFIBSEM_MANUFACTURER",
    "FIBSIMS_OPENFIBSEM_IP",
    "FIBSIMS_OPENFIBSEM_PLASMA_GAS",
)


@pytest.fixture(autouse=True)
def _demo_without_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """fibsem's demo microscope at full speed, on its default configuration."""
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    for name in BACKEND_ENV:
        monkeypatch.delenv(name, raising=False)


def open_openfibsem(options: InstrumentOptions | None = None, name: str = "openfibsem") -> Any:
    """The backend as the run service opens it: by name, through the entry point."""
    if FIBSEM_MISSING:
        pytest.skip(SKIP_REASON)
    return open_instrument(name, options or InstrumentOptions(seed=1))


@pytest.fixture
def openfibsem() -> Iterator[Instrument]:
    instrument = open_openfibsem()
    try:
        yield instrument
    finally:
        instrument.close()


@pytest.fixture
def open_backend() -> Any:
    """:func:`open_openfibsem` itself, for tests that open the backend with their own options."""
    return open_openfibsem
