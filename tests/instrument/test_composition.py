"""Composed instruments (``openfibsem,tof=sim``): how they are spelled, refused, and assembled.

Assembly is tested on stand-in backends here; on OpenFIBSEM's demo microscope with the twin's
spectrometer in tests/openfibsem."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from fibsims.instrument import InstrumentError, InstrumentOptions, open_instrument
from fibsims.instrument.capabilities import Capabilities, ScanCapabilities
from fibsims.instrument.composition import (
    Composition,
    ShadowedColumn,
    ShadowedStage,
    compose,
    open_composition,
    parse_composition,
    with_devices,
)
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import MillPattern, PatternKind, StagePosition


def test_a_composition_is_a_base_and_devices_from_other_backends():
    composition = parse_composition("openfibsem, tof=sim")
    assert composition == Composition("openfibsem", (("tof", "sim"),))
    assert composition.name == "openfibsem,tof=sim"
    assert composition.providers() == ["openfibsem", "sim"]


def test_a_device_from_the_base_itself_is_no_composition():
    assert parse_composition("sim,tof=sim").name == "sim"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("openfibsem,laser=sim", "no device 'laser' to compose; devices: stage, column"),
        ("openfibsem,tof", "should be DEVICE=BACKEND"),
        ("openfibsem,tof=", "should be DEVICE=BACKEND"),
        ("tof=sim,openfibsem", "starts with the base backend"),
        ("openfibsem,tof=sim,tof=twin", "tof is given twice"),
    ],
)
def test_a_malformed_composition_says_what_is_wrong(name, says):
    with pytest.raises(InstrumentError, match=says):
        parse_composition(name)


def test_the_cli_option_appends_a_device_to_the_instrument_name():
    assert with_devices("openfibsem", tof="sim") == "openfibsem,tof=sim"
    assert with_devices("openfibsem", tof=None) == "openfibsem"
    with pytest.raises(InstrumentError, match="given twice"):
        with_devices("openfibsem,tof=sim", tof="sim")


def test_an_unknown_provider_names_the_installed_backends():
    with pytest.raises(InstrumentError, match=r"'sim,tof=nosuch'.*no instrument backend named "):
        open_instrument("sim,tof=nosuch", InstrumentOptions(seed=1))


@dataclass
class Recorder:
    """A stand-in device that records every call made to it."""

    calls: list = field(default_factory=list)
    ladder: tuple[float, ...] = (0.1, 0.8, 15.0)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, *args)) or self._answer(name, args)

    def _answer(self, name, args):
        if name == "current_ladder_na":
            return self.ladder
        if name in ("set_current_na", "move_to"):
            return args[0]
        return None


def _backend(name: str, sims: bool) -> Instrument:
    scan = ScanCapabilities((512, 512), 0.1, 100.0)
    caps = Capabilities((0.1, 1.0, 15.0), 0.05, (2.0, 30.0), 500.0, scan, scan if sims else None)
    return Instrument(
        name=name,
        clock=Recorder(),
        stage=Recorder(),
        column=Recorder(),
        se_detector=Recorder(),
        tof=Recorder(),
        truth=Recorder(),
        costs=Recorder(),
        capabilities=caps,
    )


def test_devices_come_from_their_providers_and_the_clock_from_the_base():
    fib, twin = _backend("fib", sims=False), _backend("twin", sims=True)
    composed = compose(parse_composition("fib,tof=twin"), {"fib": fib, "twin": twin})
    assert composed.name == "fib,tof=twin"
    assert composed.tof is twin.tof and composed.se_detector is fib.se_detector
    assert composed.clock is fib.clock
    assert composed.truth is None and composed.costs is None  # they describe one backend
    assert composed.capabilities.sims_scan == twin.capabilities.sims_scan
    assert composed.capabilities.current_ladder_na == fib.capabilities.current_ladder_na
    assert "tof" in composed.capabilities.devices


def test_a_composition_does_not_declare_the_truth_and_costs_it_does_not_carry():
    full = ("stage", "column", "se_detector", "tof", "vacuum", "costs", "truth")
    fib, twin = _backend("fib", sims=True), _backend("twin", sims=True)
    fib.capabilities = replace(fib.capabilities, devices=full)
    composed = compose(parse_composition("fib,tof=twin"), {"fib": fib, "twin": twin})
    assert composed.capabilities.devices == ("stage", "column", "se_detector", "tof", "vacuum")


def test_the_tof_provider_shadows_the_beam_and_the_stage():
    fib, twin = _backend("fib", sims=False), _backend("twin", sims=True)
    composed = compose(parse_composition("fib,tof=twin"), {"fib": fib, "twin": twin})
    assert isinstance(composed.column, ShadowedColumn)
    assert isinstance(composed.stage, ShadowedStage)
    cut = MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20, 2, 16, 0.5)
    composed.column.set_current_na(1.0)
    composed.column.unblank()
    composed.column.mill(cut)
    composed.column.blank()
    composed.stage.move_to(StagePosition(rotation_deg=20))
    shadow = [c for c in twin.column.calls if c[0] != "current_ladder_na"]
    assert shadow == [("set_current_na", 0.8), ("unblank",), ("mill", cut), ("blank",)]
    assert twin.stage.calls == [("move_to", StagePosition(rotation_deg=20))]


class Closing(Instrument):
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_part_that_fails_to_open_closes_the_parts_already_open():
    opened = []

    def opener(name):
        if name == "twin":
            raise InstrumentError("no twin today")
        part = _backend(name, sims=False)
        opened.append(Closing(**{f: getattr(part, f) for f in part.__dataclass_fields__}))
        return opened[-1]

    with pytest.raises(InstrumentError, match="'fib,tof=twin': no twin today"):
        open_composition(parse_composition("fib,tof=twin"), opener)
    assert [part.closed for part in opened] == [True]
