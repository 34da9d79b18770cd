"""An instrument composed of devices from several backends: ``openfibsem,tof=sim``.

Why: the ToF-SIMS spectrometer is a separate device, often from another vendor than the FIB,
and a backend for one microscope (OpenFIBSEM's) need not offer one. A composition names a
*base* backend and, per device, the backend that provides it instead::

    openfibsem,tof=sim              # FIB devices from OpenFIBSEM, the ToF from the twin
    sim,se_detector=openfibsem      # any device, from any installed backend (or address)

The spelling is the instrument name itself (``fibsims run --instrument``, whose ``--tof``
option appends ``,tof=NAME``), so a run folder records it and ``fibsims resume`` reopens the
same composition. A recipe does not declare it: a recipe describes the experiment, the
instrument it runs on is chosen at the command line.

Rules of a composed instrument:

- the clock is the base's (the backend whose beam the run drives keeps time);
- *shadowing*: a provider that lends devices but not its column is kept alive whole, and every
  beam setting and pattern the run gives the chosen column is replayed on the provider's own
  column (current, nearest rung of its ladder; voltage; blanking; beam shift; milling), and
  every stage move on its stage. Why: a simulated spectrometer (the twin's) computes its
  counts from its own beam and sample, so it must see the current the run selected and the
  face the run milled. On hardware the same devices share one beam and need no shadow, but a
  shadow only repeats commands, so it is harmless;
- ground truth is kept only when one backend provides every device (a twin's truth describes
  its own acquisitions); so is the cost model (a composition's estimates are lower bounds);
- capabilities are the column provider's, with the SIMS raster's from the ToF provider.

Limits (docs/openfibsem.md): a shadow follows the commands, not the hardware. The twin's
SIMS map follows where the run *told* the stage to go, not where the demo microscope's stage
reads, and the twin's virtual time is not added to the base's clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fibsims.instrument.capabilities import Capabilities
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument, IonColumn, Stage
from fibsims.instrument.types import (
    FocusResult,
    MillPattern,
    MillResult,
    StagePosition,
)

COMPOSABLE_DEVICES = ("stage", "column", "se_detector", "tof", "vacuum")
"""The devices a composition may take from another backend (the clock follows the base)."""


@dataclass(frozen=True)
class Composition:
    """A base backend and, per device, the backend that provides it instead."""

    base: str
    devices: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The instrument name this composition is spelled as."""
        return ",".join([self.base, *(f"{device}={p}" for device, p in self.devices)])

    def providers(self) -> list[str]:
        """The backends to open, base first, each once."""
        names = [self.base]
        for _, provider in self.devices:
            if provider not in names:
                names.append(provider)
        return names


def is_composition(name: str) -> bool:
    return "," in name


def parse_composition(name: str) -> Composition:
    """``BASE[,DEVICE=BACKEND...]``; a malformed one is an InstrumentError saying what is wrong."""
    base, *parts = (part.strip() for part in name.split(","))
    if not base or "=" in base:
        raise InstrumentError(
            f"instrument {name!r}: a composition starts with the base backend's name, "
            "e.g. openfibsem,tof=sim"
        )
    devices: dict[str, str] = {}
    for part in parts:
        device, sep, provider = (s.strip() for s in part.partition("="))
        if not sep or not device or not provider:
            raise InstrumentError(
                f"instrument {name!r}: {part!r} should be DEVICE=BACKEND, e.g. tof=sim"
            )
        if device not in COMPOSABLE_DEVICES:
            raise InstrumentError(
                f"instrument {name!r}: no device {device!r} to compose; devices: "
                + ", ".join(COMPOSABLE_DEVICES)
            )
        if device in devices:
            raise InstrumentError(f"instrument {name!r}: {device} is given twice")
        if provider != base:
            devices[device] = provider
    return Composition(base, tuple(devices.items()))


def with_devices(name: str, **providers: str | None) -> str:
    """``name`` with ``device=provider`` appended for each provider given (the CLI's
    ``--tof``); a device already in ``name`` is an error."""
    extra = {device: p for device, p in providers.items() if p}
    if not extra:
        return name
    spelled = ",".join([name, *(f"{d}={p}" for d, p in extra.items())])
    return parse_composition(spelled).name


def open_composition(composition: Composition, opener: Callable[[str], Instrument]) -> Instrument:
    """Open every provider of ``composition`` with ``opener`` and assemble the devices."""
    opened: dict[str, Instrument] = {}
    try:
        for provider in composition.providers():
            try:
                opened[provider] = opener(provider)
            except InstrumentError as error:  # which part failed, keeping the error's class
                raise type(error)(f"instrument {composition.name!r}: {error}") from error
        return compose(composition, opened)
    except BaseException:
        for instrument in opened.values():
            with contextlib.suppress(Exception):
                instrument.close()
        raise


def compose(composition: Composition, opened: dict[str, Instrument]) -> Instrument:
    """The composed :class:`Instrument` over backends already open (see the module rules)."""
    chosen = dict(composition.devices)
    base = opened[composition.base]

    def provider_of(device: str) -> str:
        return chosen.get(device, composition.base)

    def device(name: str) -> Any:
        return getattr(opened[provider_of(name)], name)

    column_provider, stage_provider = provider_of("column"), provider_of("stage")
    shadows = [p for p in opened if p != column_provider]
    stage_shadows = [p for p in opened if p != stage_provider]
    column: IonColumn = device("column")
    stage: Stage = device("stage")
    if shadows:
        column = ShadowedColumn(column, [opened[p].column for p in shadows])
    if stage_shadows:
        stage = ShadowedStage(stage, [opened[p].stage for p in stage_shadows])
    single = len(opened) == 1
    return ComposedInstrument(
        name=composition.name,
        clock=base.clock,
        stage=stage,
        column=column,
        se_detector=device("se_detector"),
        tof=device("tof"),
        vacuum=device("vacuum"),
        truth=base.truth if single else None,
        costs=base.costs if single else None,
        capabilities=_capabilities(
            opened[column_provider].capabilities,
            opened[provider_of("tof")].capabilities,
            single,
        ),
        parts=opened,
    )


def _capabilities(
    column: Capabilities | None, tof: Capabilities | None, single: bool
) -> Capabilities | None:
    """The column provider's declaration, with the ToF provider's raster; a composition of
    several backends has no truth or cost model, so it does not declare them."""
    if column is None:
        return None
    sims_scan = tof.sims_scan if tof is not None else None
    devices = [*column.devices, *(("tof",) if sims_scan else ())]
    if not single:
        devices = [d for d in devices if d not in ("truth", "costs")]
    return replace(column, sims_scan=sims_scan, devices=tuple(dict.fromkeys(devices)))


@dataclass(kw_only=True)
class ComposedInstrument(Instrument):
    """An instrument whose devices come from several backends; closing closes them all."""

    parts: dict[str, Instrument]

    def close(self) -> None:
        for part in self.parts.values():
            with contextlib.suppress(Exception):
                part.close()


def nearest_rung(ladder: Sequence[float], current_na: float) -> float:
    """The rung of ``ladder`` nearest ``current_na`` (a shadow follows, it does not refuse)."""
    return min(ladder, key=lambda rung: abs(rung - current_na)) if ladder else current_na


class ShadowedColumn(IonColumn):
    """The chosen column; every setting and pattern is replayed on the shadows' columns."""

    def __init__(self, primary: IonColumn, shadows: Sequence[IonColumn]) -> None:
        self.primary = primary
        self.shadows = tuple(shadows)

    @property
    def ion_species(self) -> str:
        return self.primary.ion_species

    def voltage_kv(self) -> float:
        return self.primary.voltage_kv()

    def set_voltage_kv(self, voltage_kv: float) -> None:
        self.primary.set_voltage_kv(voltage_kv)
        for shadow in self.shadows:
            shadow.set_voltage_kv(voltage_kv)

    def current_ladder_na(self) -> Sequence[float]:
        return self.primary.current_ladder_na()

    def current_na(self) -> float:
        return self.primary.current_na()

    def set_current_na(self, current_na: float) -> float:
        selected = self.primary.set_current_na(current_na)
        for shadow in self.shadows:
            shadow.set_current_na(nearest_rung(shadow.current_ladder_na(), selected))
        return selected

    def measured_current_na(self) -> float:
        return self.primary.measured_current_na()

    def is_blanked(self) -> bool:
        return self.primary.is_blanked()

    def blank(self) -> None:
        try:
            self.primary.blank()
        finally:  # blanking is safe at any time: every column is blanked, whatever fails
            for shadow in self.shadows:
                with contextlib.suppress(Exception):
                    shadow.blank()

    def unblank(self) -> None:
        self.primary.unblank()
        for shadow in self.shadows:
            shadow.unblank()

    def beam_shift_um(self) -> tuple[float, float]:
        return self.primary.beam_shift_um()

    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        self.primary.set_beam_shift_um(shift_um)
        for shadow in self.shadows:
            shadow.set_beam_shift_um(shift_um)

    def mill(self, pattern: MillPattern) -> MillResult:
        result = self.primary.mill(pattern)
        for shadow in self.shadows:
            shadow.mill(pattern)
        return result

    def autofocus(self) -> FocusResult:
        return self.primary.autofocus()


class ShadowedStage(Stage):
    """The chosen stage; every move is replayed on the shadows' stages."""

    def __init__(self, primary: Stage, shadows: Sequence[Stage]) -> None:
        self.primary = primary
        self.shadows = tuple(shadows)

    def position(self) -> StagePosition:
        return self.primary.position()

    def move_to(self, target: StagePosition) -> StagePosition:
        reached = self.primary.move_to(target)
        for shadow in self.shadows:
            shadow.move_to(target)
        return reached
