"""Suspenders: conditions watched at every safe point that hold the run while they last.

A suspender is checked before each step (instrument conditions, disk) and after each step
(what the step measured, e.g. detector saturation). When one trips, the runner either waits in
place (state ``paused``, beam blanked, polling on the instrument clock, back to ``running`` by
itself once the condition clears) or pauses the run for a person, as the recipe says.

Disk space is a property of where data goes, which the engine does not know: the service passes
a :class:`FreeDiskWatch` built on a callable that reports free and per-slice bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fibsims.instrument.interfaces import Instrument
from fibsims.recipe import Suspenders


@dataclass
class Suspender:
    """Base: never trips. ``action`` is ``wait`` or ``pause``."""

    name: str
    action: str = "pause"
    poll_s: float = 60.0
    max_wait_s: float = 7200.0

    def before_step(self, instrument: Instrument, slices_left: int) -> str | None:
        """A reason to hold the run now, or None."""
        return None

    def after_step(self, kind: str, metadata: Mapping[str, Any]) -> str | None:
        """A reason to hold the run, judging what the step just measured, or None."""
        return None


@dataclass
class BeamCurrentWatch(Suspender):
    tolerance: float = 0.1

    def before_step(self, instrument: Instrument, slices_left: int) -> str | None:
        column = instrument.column
        selected, measured = column.current_na(), column.measured_current_na()
        if abs(measured - selected) > self.tolerance * selected:
            return (
                f"beam current {measured:.4g} nA is off the selected {selected:.4g} nA by more "
                f"than {self.tolerance:.0%}"
            )
        return None


@dataclass
class PressureWatch(Suspender):
    max_pa: float = 1e-3

    def before_step(self, instrument: Instrument, slices_left: int) -> str | None:
        if instrument.vacuum is None:
            return None
        pressure = instrument.vacuum.chamber_pressure_pa()
        if pressure > self.max_pa:
            return f"chamber pressure {pressure:.3g} Pa is above {self.max_pa:.3g} Pa"
        return None


@dataclass
class SaturationWatch(Suspender):
    max_line_fraction: float = 0.5

    def after_step(self, kind: str, metadata: Mapping[str, Any]) -> str | None:
        fraction = metadata.get("saturated_line_fraction")
        if fraction is not None and fraction > self.max_line_fraction:
            return (
                f"{kind}: {fraction:.0%} of the raster lines saturated the TOF detector (limit "
                f"{self.max_line_fraction:.0%}); lower the SIMS current or dwell, then resume"
            )
        return None


DiskReport = Callable[[], tuple[int, int]]
"""Returns (free bytes where slices go, bytes one slice takes; 0 when not yet known)."""


@dataclass
class FreeDiskWatch(Suspender):
    """Room for the slices still to come and for the run file, which is written from every
    slice when the run ends (a run that cannot write it is not finished)."""

    report: DiskReport | None = None
    margin: float = 1.2
    run_file_slices: int = 0

    def before_step(self, instrument: Instrument, slices_left: int) -> str | None:
        if self.report is None:
            return None
        free, per_slice = self.report()
        needed = int(per_slice * (slices_left + self.run_file_slices) * self.margin)
        if per_slice and free < needed:
            return (
                f"free disk {free / 2**30:.2f} GiB is less than the {needed / 2**30:.2f} GiB the "
                f"remaining {slices_left} slices and the run file need; free space, then resume"
            )
        return None


def from_recipe(
    config: Suspenders, disk: DiskReport | None = None, slices_planned: int = 0
) -> list[Suspender]:
    """The suspenders a recipe enables."""
    found: list[Suspender] = []
    beam, pressure = config.beam_current, config.chamber_pressure
    if beam.enabled:
        found.append(
            BeamCurrentWatch(
                "beam_current", beam.action, beam.poll_s, beam.max_wait_s, tolerance=beam.tolerance
            )
        )
    if pressure.enabled:
        found.append(
            PressureWatch(
                "chamber_pressure",
                pressure.action,
                pressure.poll_s,
                pressure.max_wait_s,
                max_pa=pressure.max_pa,
            )
        )
    if config.detector_saturation.enabled:
        found.append(
            SaturationWatch(
                "detector_saturation",
                max_line_fraction=config.detector_saturation.max_line_fraction,
            )
        )
    if config.free_disk.enabled and disk is not None:
        found.append(
            FreeDiskWatch(
                "free_disk",
                report=disk,
                margin=config.free_disk.margin,
                run_file_slices=slices_planned,
            )
        )
    return found
