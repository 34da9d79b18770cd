"""A method is declared once, on its interface: the wire table, the codecs and the proxies
follow from it. Adding a method to IonColumn touches only instrument/ and its implementations:
here an extended column is served over the real ZeroMQ transport with no transport edit."""

from __future__ import annotations

import inspect
from abc import abstractmethod
from dataclasses import dataclass

import pytest
from tests.instrument.transport.conftest import FakeColumn, FakeFactory

from fibsims.instrument import FocusResult, InstrumentOptions, IonColumn, MillPattern, PatternKind
from fibsims.instrument.declare import Level, is_read, read, wire_members
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.transport import FaultPlan, LinkProtocolError, connect
from fibsims.instrument.transport.derived import (
    DEVICES,
    METHODS,
    ArrayPack,
    method_table,
)


class IonColumnPlus(IonColumn):
    """A column that also reports its emission current and can condition its source."""

    @read
    @abstractmethod
    def emission_current_ua(self) -> float:
        """The source's emission current."""

    @abstractmethod
    def condition_source(self, power: Level, pattern: MillPattern | None = None) -> int:
        """Run a conditioning cycle at ``power`` (0 to 1); return the cycles run so far."""


class FakeColumnPlus(FakeColumn, IonColumnPlus):
    cycles = 0

    def emission_current_ua(self) -> float:
        return 135.25

    def condition_source(self, power: float, pattern: MillPattern | None = None) -> int:
        self.cycles += 1
        return self.cycles


PLUS = {**DEVICES, "column": IonColumnPlus}


class PlusFactory(FakeFactory):
    def __init__(self) -> None:
        super().__init__(devices=PLUS)

    def build(self, options: InstrumentOptions) -> Instrument:
        instrument = super().build(options)
        instrument.column = FakeColumnPlus(self.script, instrument.clock)  # type: ignore[arg-type]
        return instrument


def test_the_table_has_one_wire_method_per_interface_method_idempotent_as_marked():
    for device, interface in DEVICES.items():
        abstract = set(interface.__abstractmethods__)
        names = {n.split(".", 1)[1] for n in METHODS if n.startswith(f"{device}.")}
        marked = {n for n, m in inspect.getmembers(interface) if is_read(m) is not None}
        assert names == abstract | marked, device
        for name in names:
            member = inspect.getattr_static(interface, name)
            assert METHODS[f"{device}.{name}"].idempotent == bool(is_read(member)), name
    assert len(METHODS) == sum(len(wire_members(i)) for i in DEVICES.values())
    assert "costs.sputter_depth_um" not in METHODS  # concrete and unmarked: not on the wire


def test_an_extended_interface_adds_exactly_its_new_methods():
    table = method_table(PLUS)
    assert set(table) - set(METHODS) == {"column.emission_current_ua", "column.condition_source"}
    assert table["column.emission_current_ua"].idempotent
    assert not table["column.condition_source"].idempotent
    assert set(table["column.condition_source"].params.model_fields) == {"power", "pattern"}


def test_an_added_read_and_action_work_over_the_wire_and_a_retry_is_answered_from_cache(
    serve, fast, raw_connect
):
    factory = PlusFactory()
    server = serve(factory, devices=PLUS)
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast, devices=PLUS)
    try:
        column = instrument.column
        assert isinstance(column, IonColumnPlus) and column.ion_species == "Xe"
        assert column.emission_current_ua() == 135.25
        pattern = MillPattern(PatternKind.BOX, 1.0, 2.0, 3.0, front_z_um=0.5)
        assert column.condition_source(0.5) == 1
        assert column.condition_source(power=1.0, pattern=pattern) == 2
        with pytest.raises(LinkProtocolError, match="power"):
            column.condition_source(1.5)  # refused by the declared range before sending
        assert column.current_na() == 0.1  # the inherited methods are still there
    finally:
        instrument.close()
    assert factory.script.calls["column.condition_source"] == 2
    # a read resent after a silence (a loaded machine, 150 ms) runs again: reads are not cached
    reads_before = factory.script.calls["column.emission_current_ua"]

    client = raw_connect(server.endpoint)
    session = client.open()
    first = client.call("column.condition_source", "cond-1", session, power=0.25)
    again = client.call("column.condition_source", "cond-1", session, power=0.25)
    assert (first.ok, first.result, first.duplicate) == (True, 1, False)
    assert (again.ok, again.result, again.duplicate) == (True, 1, True)
    reads = [client.call("column.emission_current_ua", "emit-1", session) for _ in range(2)]
    assert [(r.result, r.duplicate) for r in reads] == [(135.25, False), (135.25, False)]
    assert factory.script.calls["column.condition_source"] == 3
    assert factory.script.calls["column.emission_current_ua"] == reads_before + 2


def test_an_added_action_retried_after_lost_replies_runs_once_per_call(serve, fast):
    factory = PlusFactory()
    server = serve(factory, devices=PLUS, faults=FaultPlan(drop_replies=0.4, seed=3))
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast, devices=PLUS)
    try:
        column = instrument.column
        assert isinstance(column, IonColumnPlus)
        results = [column.condition_source(0.5) for _ in range(8)]
    finally:
        instrument.close()
    assert results == list(range(1, 9))
    assert factory.script.calls["column.condition_source"] == 8
    assert server.stats()["duplicates_suppressed"] >= 1


def test_a_server_without_the_extension_refuses_the_new_method(serve, fast):
    server = serve(FakeFactory())
    instrument = connect(server.endpoint, InstrumentOptions(seed=1), settings=fast, devices=PLUS)
    try:
        with pytest.raises(LinkProtocolError, match="unknown_method"):
            instrument.column.emission_current_ua()  # type: ignore[attr-defined]
    finally:
        instrument.close()


@dataclass(frozen=True)
class FocusResultPlus(FocusResult):
    """FocusResult with a field added later: a default meaning "as before"."""

    converged: bool | None = None


class ColumnFocusPlus(IonColumn):
    @abstractmethod
    def autofocus(self) -> FocusResultPlus:
        """Focus, reporting whether the routine converged."""


def test_a_field_added_to_a_value_type_needs_no_transport_edit_and_is_left_out_at_default():
    focus = method_table({"column": ColumnFocusPlus})["column.autofocus"]
    before = FocusResultPlus(0.5, 0.0, 12.0)
    data = focus.encode(before, ArrayPack())
    assert "converged" not in data  # an older peer, without the field, accepts this result
    assert METHODS["column.autofocus"].decode(data, []) == FocusResult(0.5, 0.0, 12.0)
    after = FocusResultPlus(0.5, 0.0, 12.0, converged=False)
    assert focus.decode(focus.encode(after, ArrayPack()), []) == after
    with pytest.raises(ValueError, match="converged"):
        focus.decode({**data, "converged": 1}, [])  # a bool is a bool on the wire
