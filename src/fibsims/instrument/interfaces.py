"""Abstract instrument interfaces: the only way the engine touches hardware.

Each interface is narrow and typed (no string-keyed get/set). Every action blocks until it is
done *in instrument time*: on hardware that is wall time, in the twin it is the virtual clock,
which the action advances by what its physical model says it takes. The engine therefore reads
durations from :class:`Clock`, never from the wall.

A backend provides an :class:`Instrument` bundle; backends are found by name through the
``fibsims.instruments`` entry-point group (see :mod:`fibsims.instrument.registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fibsims.instrument.capabilities import Capabilities
from fibsims.instrument.declare import Level, Seconds, read
from fibsims.instrument.types import (
    AcquisitionGeometry,
    FocusResult,
    Image,
    MillPattern,
    MillResult,
    Raster,
    RasterRequest,
    ScanRequest,
    StagePosition,
)

if TYPE_CHECKING:
    import numpy as np


class Clock(ABC):
    """Instrument time. Wall time on hardware, virtual time in the twin."""

    @read
    @abstractmethod
    def now_s(self) -> float:
        """Seconds since the instrument session started."""

    @abstractmethod
    def sleep(self, seconds: Seconds) -> None:
        """Wait ``seconds`` of instrument time."""


class Stage(ABC):
    """The sample stage. Moves take time and block until settled."""

    @read
    @abstractmethod
    def position(self) -> StagePosition:
        """The current (read-back) position."""

    @abstractmethod
    def move_to(self, target: StagePosition) -> StagePosition:
        """Move to ``target`` and settle; return the position actually reached."""


class IonColumn(ABC):
    """The Xe+ plasma FIB column: beam settings and patterning."""

    @property
    @read
    @abstractmethod
    def ion_species(self) -> str:
        """Ion species of the source, e.g. ``"Xe"``."""

    @read
    @abstractmethod
    def voltage_kv(self) -> float:
        """Accelerating voltage."""

    @abstractmethod
    def set_voltage_kv(self, voltage_kv: float) -> None:
        """Set the accelerating voltage (takes time on a real column)."""

    @read
    @abstractmethod
    def current_ladder_na(self) -> Sequence[float]:
        """The discrete beam currents (apertures) the column offers, ascending, in nA."""

    @read
    @abstractmethod
    def current_na(self) -> float:
        """The selected beam current."""

    @abstractmethod
    def set_current_na(self, current_na: float) -> float:
        """Select the ladder current nearest ``current_na``; return the one selected."""

    @read
    def measured_current_na(self) -> float:
        """The beam current as measured now (Faraday cup / aperture read-back).

        Differs from :meth:`current_na` when the source fluctuates or drops; suspenders watch
        the ratio. A backend without a read-back reports the selected current."""
        return self.current_na()

    @read
    @abstractmethod
    def is_blanked(self) -> bool:
        """Whether the beam is blanked (kept off the sample)."""

    @abstractmethod
    def blank(self) -> None:
        """Blank the beam. Safe to call at any time, including after a fault."""

    @abstractmethod
    def unblank(self) -> None:
        """Let the beam reach the sample."""

    @read
    @abstractmethod
    def beam_shift_um(self) -> tuple[float, float]:
        """The electrostatic beam shift (x, y)."""

    @abstractmethod
    def set_beam_shift_um(self, shift_um: tuple[float, float]) -> None:
        """Set the beam shift, used to follow drift without moving the stage."""

    @abstractmethod
    def mill(self, pattern: MillPattern) -> MillResult:
        """Mill ``pattern`` at the selected current. The beam must be unblanked."""

    @abstractmethod
    def autofocus(self) -> FocusResult:
        """Run the column's focus routine on the current field."""


class Vacuum(ABC):
    """The chamber vacuum gauge."""

    @read
    @abstractmethod
    def chamber_pressure_pa(self) -> float:
        """Chamber pressure now, in pascal."""


class SEDetector(ABC):
    """Secondary-electron detector imaging with the ion beam's scan."""

    @abstractmethod
    def acquire_image(self, request: ScanRequest) -> Image:
        """Scan the field at the column's selected current and return the summed frames."""

    @read
    @abstractmethod
    def contrast(self) -> float:
        """The detector's contrast (amplifier gain) setting, 0 to 1, as vendors expose it."""

    @abstractmethod
    def set_contrast(self, value: Level) -> None:
        """Set the contrast (gain), 0 to 1."""

    @read
    @abstractmethod
    def brightness(self) -> float:
        """The detector's brightness (signal offset) setting, 0 to 1."""

    @abstractmethod
    def set_brightness(self, value: Level) -> None:
        """Set the brightness (offset), 0 to 1."""


class TofSpectrometer(ABC):
    """Time-of-flight secondary-ion mass spectrometer synchronised with the ion-beam raster."""

    @abstractmethod
    def acquire_raster(self, request: RasterRequest) -> Raster:
        """Raster the field, returning per-peak count maps and the sum spectrum."""


class CostModel(ABC):
    """Optional: what actions will cost on this instrument, without doing them.

    Why: a 23-hour run that cannot finish within ``limits.max_hours``, or whose data cannot fit
    on the disk, must be refused before the first beam touches the sample, and only the backend
    knows its milling rates, stage speeds and settle times. Vendors expose the same figures
    (a pattern's estimated time, a scan's frame time). Every duration is in instrument seconds
    and matches what the action would take; a backend without a cost model gets lower bounds
    (a scan takes at least pixels x dwell x frames).
    """

    @read
    @abstractmethod
    def mill_s(
        self, pattern: MillPattern, current_na: float, at: StagePosition | None = None
    ) -> float:
        """Time to mill ``pattern`` at ``current_na`` with the stage at ``at`` (None: where it
        is now). The stage's tilt and rotation set the beam's incidence, hence the sputter rate;
        preflight asks about the recipe's tilt before the stage has moved there."""

    @read
    @abstractmethod
    def image_s(self, request: ScanRequest) -> float:
        """Time of an SE image acquisition, every frame included."""

    @read
    @abstractmethod
    def raster_s(self, request: RasterRequest) -> float:
        """Time of a ToF-SIMS raster, every frame included."""

    @read
    @abstractmethod
    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        """Time to move the stage from ``start`` to ``end`` and settle."""

    @read
    @abstractmethod
    def current_change_s(self) -> float:
        """Time to change the beam current to another rung of the ladder."""

    @read
    @abstractmethod
    def autofocus_s(self) -> float:
        """Time of one autofocus routine."""

    @read
    @abstractmethod
    def spectrum_samples(self, request: RasterRequest) -> int:
        """Samples in the sum spectrum a raster returns (for the data-volume estimate)."""

    def sputter_depth_um(
        self, request: ScanRequest, current_na: float, at: StagePosition | None = None
    ) -> float | None:
        """How deep a scan erodes the face of the sample material (dose per area x the
        material's volume per dose) with the stage at ``at`` (None: where it is now), or None
        when the backend cannot say. Preflight warns when a SIMS raster would erode more than
        a slice."""
        return None


class GroundTruth(ABC):
    """Optional: what a simulated instrument knows about the sample it has just measured.

    Hardware has no such thing; the twin provides it so runs can be scored against the
    phantom. Truth maps are on the acquisition's own pixel grid, for the field the instrument
    actually saw (drift included), so they compare pixel for pixel with the data.
    """

    @read
    @abstractmethod
    def last_image_truth(self) -> dict[str, np.ndarray]:
        """Truth of the most recent SE image: at least ``labels`` (uint8, material per pixel)
        and ``li_fraction`` (float32, Li atomic fraction), shape (height, width)."""

    @read
    @abstractmethod
    def last_raster_truth(self) -> dict[str, np.ndarray]:
        """Truth of the most recent SIMS raster, averaged over the depth it sputtered: at least
        ``labels`` and ``li_fraction`` (plus ``<element>_fraction`` maps), shape (H, W)."""

    @read
    @abstractmethod
    def last_geometry(self) -> AcquisitionGeometry:
        """Where the most recent acquisition (image or raster) landed: true drift, field
        centre in the sample frame, true face position, defocus."""

    @read
    @abstractmethod
    def sample_state(self) -> dict[str, Any]:
        """The physical state of the simulated sample (JSON-able): the face where it truly
        stands, the features milled into it. A run commits it with every slice and hands it
        back when it resumes (``InstrumentOptions.sample_state``), as a real sample would
        simply still be in the chamber."""


@dataclass
class Instrument:
    """The devices of one FIB-SIMS instrument, plus its clock.

    ``name`` identifies the backend (``"sim"`` for the twin). ``truth`` is set only by
    simulated backends; ``costs`` by backends that can say what an action will take;
    ``capabilities`` by backends that declare what they offer (preflight checks recipes
    against it).
    ``close`` releases connections.
    """

    name: str
    clock: Clock
    stage: Stage
    column: IonColumn
    se_detector: SEDetector
    tof: TofSpectrometer
    truth: GroundTruth | None = None
    vacuum: Vacuum | None = None
    costs: CostModel | None = None
    capabilities: Capabilities | None = None

    def close(self) -> None:
        """Release the backend. The default has nothing to release."""
