"""Actions: the steps of a compiled plan, as plain data.

Like bluesky's messages, an action says what to do with every number resolved (currents on the
ladder's scale, pattern geometry for this slice, scan sizes), so a plan can be inspected,
estimated and tested without an instrument. :mod:`fibsims.engine.execute` turns each action
into instrument calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from fibsims.instrument.types import MillPattern, RasterRequest, ScanRequest


@dataclass(frozen=True)
class Action:
    """Base of all actions. ``product`` names the data the action yields (None: metadata only)."""

    kind: ClassVar[str] = "action"
    current_na: float
    product: str | None


@dataclass(frozen=True)
class Mill(Action):
    """Mill the next slice off with a cleaning cross-section (or box) at a milling current."""

    kind: ClassVar[str] = "mill"
    pattern: MillPattern


@dataclass(frozen=True)
class RockingPolish(Action):
    """Polish the fresh face at each rocking angle (stage rotation about the face normal)."""

    kind: ClassVar[str] = "rocking_polish"
    pattern: MillPattern
    angles_deg: tuple[float, ...]
    passes: int


@dataclass(frozen=True)
class SEImage(Action):
    """Ion-induced secondary-electron image of the face."""

    kind: ClassVar[str] = "se_image"
    scan: ScanRequest


@dataclass(frozen=True)
class SimsRaster(Action):
    """ToF-SIMS raster of the face: per-peak count maps and a sum spectrum."""

    kind: ClassVar[str] = "sims_raster"
    request: RasterRequest


@dataclass(frozen=True)
class Autofocus(Action):
    """The column's focus routine, run at an imaging current on a schedule."""

    kind: ClassVar[str] = "autofocus"


@dataclass(frozen=True)
class SlicePlan:
    """Everything one slice does: its index, the face it exposes, and its actions in order."""

    index: int
    face_z_um: float
    actions: tuple[Action, ...]
