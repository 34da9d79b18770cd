"""Fakes derived from an interface: settings are kept, anything unscripted says so, and a
recorded device counts every call and raises what a test queued."""

from __future__ import annotations

import pytest

from fibsims.instrument import HardwareFault, IonColumn, SEDetector, Vacuum
from fibsims.testing.fakes import Script, fake, fake_class, recorded


def test_a_setting_pair_is_kept_and_other_methods_are_missing_until_given():
    detector = fake(SEDetector, {"contrast": 0.5, "brightness": 0.25})
    detector.set_contrast(value=0.75)
    assert (detector.contrast(), detector.brightness()) == (0.75, 0.25)
    with pytest.raises(NotImplementedError, match="acquire_image"):
        detector.acquire_image(None)  # type: ignore[arg-type]


def test_members_are_callables_or_values_and_set_current_is_not_a_setting():
    column = fake(IonColumn, current_na=4.0, set_current_na=lambda current_na: 15.0)
    assert column.current_na() == 4.0 and column.set_current_na(14.0) == 15.0
    assert column.current_na() == 4.0  # set_current_na returns the rung: not a plain setting
    with pytest.raises(NotImplementedError, match="ion_species"):
        _ = column.ion_species


def test_the_base_class_leaves_no_method_abstract():
    assert not getattr(fake_class(IonColumn), "__abstractmethods__", None)
    assert isinstance(fake(Vacuum, chamber_pressure_pa=1e-4), Vacuum)


def test_a_recorded_device_counts_calls_and_raises_queued_failures_before_running():
    script = Script(fail={"vacuum.chamber_pressure_pa": [HardwareFault("gauge")]})
    inner = fake(Vacuum, chamber_pressure_pa=2e-4)
    gauge = recorded(Vacuum, inner, script, "vacuum")
    with pytest.raises(HardwareFault):
        gauge.chamber_pressure_pa()
    assert gauge.chamber_pressure_pa() == 2e-4
    assert script.calls["vacuum.chamber_pressure_pa"] == 2 and len(script.log) == 2
    assert gauge.settings == {}  # the wrapped device's own attributes stay readable
