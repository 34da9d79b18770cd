"""What the engine does when the instrument misbehaves: suspenders and error policies.

Suspenders watch conditions during the run (beam current, chamber pressure, detector
saturation, free disk) and either *wait* (pause in place, poll, and go on by themselves once the
condition clears) or *pause* (stop resumably, for a person to look). Error policies say which
faults are retried, which steps may be skipped and flagged, and what a hardware fault does.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import (
    MAX_CHAMBER_PRESSURE_PA,
    MAX_DISK_MARGIN,
    MAX_POLL_S,
    MAX_RETRY_BACKOFF_S,
    MAX_WAIT_S,
)

SuspendAction = Literal["wait", "pause"]

POLL_S = f"seconds between checks while waiting, up to {MAX_POLL_S}"
MAX_WAIT = f"waiting longer than this many seconds pauses the run; up to {MAX_WAIT_S}"


class BeamCurrentWatch(RecipeModel):
    """Measured beam current must stay within ``tolerance`` of the selected rung."""

    enabled: bool = Field(default=True, description="watch the beam current")
    tolerance: float = Field(
        default=0.10, gt=0, le=1, description="allowed relative deviation, up to 1; 0.1 = 10 %"
    )
    action: SuspendAction = Field(default="wait", description="wait for it, or pause the run")
    poll_s: float = Field(default=60, gt=0, le=MAX_POLL_S, description=POLL_S)
    max_wait_s: float = Field(default=7200, gt=0, le=MAX_WAIT_S, description=MAX_WAIT)


class PressureWatch(RecipeModel):
    """Chamber pressure must stay below ``max_pa`` (beam on a poor vacuum harms the source)."""

    enabled: bool = Field(default=True, description="watch the chamber pressure")
    max_pa: float = Field(
        default=1e-3,
        gt=0,
        le=MAX_CHAMBER_PRESSURE_PA,
        description=f"highest allowed pressure in Pa, up to {MAX_CHAMBER_PRESSURE_PA:g}",
    )
    action: SuspendAction = Field(default="wait", description="wait for it, or pause the run")
    poll_s: float = Field(default=60, gt=0, le=MAX_POLL_S, description=POLL_S)
    max_wait_s: float = Field(default=7200, gt=0, le=MAX_WAIT_S, description=MAX_WAIT)


class SaturationWatch(RecipeModel):
    """At most ``max_line_fraction`` of a raster's lines may have lost counts to dead time."""

    enabled: bool = Field(default=True, description="watch the TOF detector saturation")
    max_line_fraction: float = Field(
        default=0.5, gt=0, le=1, description="fraction of saturated lines that trips it, up to 1"
    )
    action: Literal["pause"] = Field(
        default="pause", description="saturation does not clear by waiting: pause"
    )


class DiskWatch(RecipeModel):
    """Free disk must hold the rest of the run, times a margin."""

    enabled: bool = Field(default=True, description="watch the free disk space")
    margin: float = Field(
        default=1.2,
        ge=1,
        le=MAX_DISK_MARGIN,
        description=f"needed = remaining slices x slice size x margin; 1 to {MAX_DISK_MARGIN}",
    )
    action: Literal["pause"] = Field(
        default="pause", description="a full disk does not clear by itself: pause"
    )


class Suspenders(RecipeModel):
    """The four watched conditions; each is on by default with conservative settings."""

    beam_current: BeamCurrentWatch = Field(
        default_factory=BeamCurrentWatch, description="measured vs selected beam current"
    )
    chamber_pressure: PressureWatch = Field(
        default_factory=PressureWatch, description="chamber vacuum"
    )
    detector_saturation: SaturationWatch = Field(
        default_factory=SaturationWatch, description="TOF detector dead-time losses"
    )
    free_disk: DiskWatch = Field(
        default_factory=DiskWatch, description="room on disk for the rest of the run"
    )


OptionalStep = Literal["autofocus", "auto_contrast"]


class ErrorPolicy(RecipeModel):
    """Transient faults are retried with backoff; optional steps are skipped and flagged;
    hardware faults pause (or abort) the run; a safety interlock always aborts."""

    retry_attempts: int = Field(
        default=3, ge=1, le=20, description="tries of a step that fails transiently, 1 to 20"
    )
    retry_backoff_s: float = Field(
        default=5,
        gt=0,
        le=MAX_RETRY_BACKOFF_S,
        description=(
            f"first wait between tries in s, up to {MAX_RETRY_BACKOFF_S}; doubles each time"
        ),
    )
    optional_steps: list[OptionalStep] = Field(
        default_factory=lambda: ["autofocus", "auto_contrast"],
        description="steps that are skipped and flagged when they fail",
    )
    on_hardware_fault: Literal["pause", "abort"] = Field(
        default="pause", description="what a hardware fault does to the run"
    )
