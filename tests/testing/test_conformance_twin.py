"""The conformance kit against the twin, in process and through the ZeroMQ proxy.

The in-process twin uses the kit as a backend author would (``conformance_tests``: one test
per check); the proxy runs the whole kit against a server wrapping the twin, as
tests/instrument/transport starts one. Both must pass every check with none skipped: the twin
has every optional device and injectable faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.instrument.transport.conftest import FAST

from fibsims.instrument import Instrument, InstrumentOptions
from fibsims.instrument.transport import InstrumentServer, connect
from fibsims.testing import Status, check_backend, conformance_tests
from fibsims_twin.factory import create_instrument

SAMPLE = {"twin": {"phantom": "nmc811", "seed": 811, "porosity": 0.30}}


def options(fault: str | None = None) -> InstrumentOptions:
    """A fresh twin session; with ``fault``, its next mill raises that fault kind."""
    faults = () if fault is None else ({"kind": fault, "at_face_um": 0.0, "step": "mill"},)
    return InstrumentOptions(seed=1, sample=SAMPLE, faults=faults)


def open_twin() -> Instrument:
    return create_instrument(options())


def open_faulty_twin(kind: str) -> Instrument:
    return create_instrument(options(kind))


test_the_twin_in_process_conforms = conformance_tests(open_twin, open_faulty=open_faulty_twin)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = InstrumentServer(create_instrument, "tcp://127.0.0.1:0").start()
    try:
        yield server.endpoint
    finally:
        server.stop()


def test_the_twin_over_zeromq_passes_every_check(endpoint):
    report = check_backend(
        lambda: connect(endpoint, options(), settings=FAST),
        open_faulty=lambda kind: connect(endpoint, options(kind), settings=FAST),
    )
    assert report.ok, str(report)
    assert [r.name for r in report.skipped] == [], str(report)


def test_the_plugin_fixture_runs_the_whole_kit(fibsims_conformance):
    report = fibsims_conformance(open_twin)
    report.raise_for_failures()
    skipped = {r.name: r.message for r in report.results if r.status is Status.SKIPPED}
    assert skipped == {
        "faults_are_classified": "no fault opener given (open_faulty): faults cannot be injected"
    }
