"""The declarations beside the interfaces: which methods a device offers remotely, and the
generic wrapper that intercepts only the calls it names."""

from __future__ import annotations

from fibsims.instrument import CostModel, IonColumn
from fibsims.instrument.declare import delegate, is_read, wire_members
from fibsims.testing.fakes import fake


def test_wire_members_are_the_abstract_methods_and_the_marked_ones():
    column = wire_members(IonColumn)
    assert "measured_current_na" in column and is_read(column["measured_current_na"])
    assert is_read(column["ion_species"]) and is_read(column["mill"]) is None
    assert "sputter_depth_um" not in wire_members(CostModel)  # concrete, unmarked


def test_delegate_passes_every_method_through_and_intercepts_only_those_named():
    inner = fake(
        IonColumn, {"voltage_kv": 30.0}, ion_species="Xe", current_na=4.0, measured_current_na=3.0
    )
    seen: list[float] = []

    def measured(method):
        seen.append(method())
        return 0.5 * method()

    column = delegate(IonColumn, inner, {"measured_current_na": measured})
    assert column.measured_current_na() == 1.5 and seen == [3.0]
    passed = delegate(IonColumn, inner)
    passed.set_voltage_kv(20.0)
    assert (passed.voltage_kv(), passed.current_na(), passed.ion_species) == (20.0, 4.0, "Xe")
    assert passed.settings is inner.settings  # a backend's extras stay reachable
