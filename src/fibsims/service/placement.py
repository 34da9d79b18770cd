"""Where a session of one site of a multi-site run starts (:mod:`fibsims.service.sites`).

A site's session is an ordinary session (:mod:`fibsims.service.session`) with three things
added, all carried by a :class:`Placement`:

- the stage goes to the site before preflight (the tilt is the recipe's), and on resume back
  to where the site's last committed slice left it (the site plus the run context's stage
  offset). A stage already there is not moved, so a resumed twin, whose stage comes back with
  its sample state, repeats an uninterrupted run's data to the bit;
- the instrument clock starts where the previous site ended: ``limits.max_hours`` is the
  whole run's (every site, one after another), and the engine's time limit and the preflight
  count the earlier sites' time with no code of their own;
- the preflight also checks the estimate of the sites still to come, so a run whose third
  site would overrun the limit is refused before the first one starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from fibsims.engine.context import RunContext
from fibsims.instrument.errors import InstrumentError
from fibsims.instrument.interfaces import Instrument
from fibsims.instrument.types import StagePosition

if TYPE_CHECKING:
    from fibsims.service.session import Session

STAGE_TOLERANCE_UM = 1e-3
"""A stage within 1 nm of its target is there (a real stage's read-back jitters more than
that; rounding of the tracked offsets is far less)."""
STAGE_TOLERANCE_DEG = 1e-6


@dataclass(frozen=True)
class Placement:
    """One site's share of a multi-site run, for its sessions."""

    site: str
    """The site's name, for messages (``sites.N`` of the recipe)."""
    at: str
    """Where the site sits in the recipe (``sites.1``), for messages."""
    stage: StagePosition
    """The site's stage position, with the recipe's tilt."""
    start_time_s: float = 0.0
    """Instrument time at which the site starts: when the previous site ended."""
    earlier_uncounted_s: float = 0.0
    """Instrument time earlier sites spent that no clock shows (sessions killed after their
    last commit), counted against ``limits.max_hours`` as a resumed run counts its own."""
    record: Mapping[str, Any] = field(default_factory=dict)
    """What the site's ``run.json`` says of it (``site``)."""
    max_hours: float | None = None
    """The whole run's ``limits.max_hours`` as raised by ``resume --max-hours`` (this time or
    in an earlier site's session), None for the recipe's."""
    check: Callable[[Session, Instrument], list[str]] | None = None
    """More preflight across sites (the whole run's time limit), after the site's own."""

    def target(self, context: RunContext | None) -> StagePosition:
        """Where the stage belongs: the site, moved by the stage offset the drift correction
        had taken when the last committed slice ended (a resumed site)."""
        if context is None:
            return self.stage
        dx, dy = context.stage_offset_um
        return replace(self.stage, x_um=self.stage.x_um + dx, y_um=self.stage.y_um + dy)


def place_stage(
    placement: Placement, context: RunContext | None, instrument: Instrument
) -> list[str]:
    """Move the stage to the site unless it is there; a refused move is a problem naming the
    site's field (a position outside the stage's travel)."""
    target = placement.target(context)
    if _close(instrument.stage.position(), target):
        return []
    try:
        instrument.stage.move_to(target)
    except InstrumentError as error:
        return [
            f"{placement.at}.stage: the stage cannot go to site {placement.site!r} at "
            f"({target.x_um:g}, {target.y_um:g}, {target.z_um:g}) um: {error}; move the site "
            "within the stage's travel"
        ]
    return []


def _close(a: StagePosition, b: StagePosition) -> bool:
    return (
        max(abs(a.x_um - b.x_um), abs(a.y_um - b.y_um), abs(a.z_um - b.z_um)) < STAGE_TOLERANCE_UM
        and abs(a.tilt_deg - b.tilt_deg) < STAGE_TOLERANCE_DEG
        and abs(a.rotation_deg - b.rotation_deg) < STAGE_TOLERANCE_DEG
    )
