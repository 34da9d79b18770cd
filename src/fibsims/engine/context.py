"""What a run learns and carries from slice to slice, and what one step is told about its slice.

Why a run context: a closed loop needs memory. Drift measured on slice 200 moves the beam for
slice 201; the face measured on slice 200 sets where slice 201's cut goes. The context is part
of what every slice commits (its values in the journal record, its arrays in the slice file),
so a resumed run starts from exactly the context an uninterrupted one had and repeats its data.

Frames: ``drift_um`` is the measured displacement of the sample against the beam since the
reference (x across, y down the face), with its rate. Before every scan and cut the beam shift
(plus any stage offset) is set to the drift predicted for that moment, so scans and patterns
stay put on the sample (drift-corrected imaging and milling). Face positions
are in the sample frame along the slicing axis; cuts go to the nominal front plus
``front_offset_um`` (slice-thickness control).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from fibsims.instrument.interfaces import CostModel
from fibsims.recipe import Recipe

if TYPE_CHECKING:
    import numpy as np


@dataclass
class FiducialTrack:
    """How the run follows its fiducial: each mark's reference crop and where it was then."""

    reference_z_um: float
    """The face position when the reference was taken (the nominal front of that slice)."""
    centers_um: dict[str, tuple[float, float]]
    """Each mark's crop centre (x, y) in the image frame when the reference was taken."""
    slopes: dict[str, float]
    """dx/dz of each mark's cross-section (tan of the mark's rotation)."""
    crops: dict[str, np.ndarray] = field(default_factory=dict)
    """Each mark's reference window (raw counts): the arrays committed in the slice file."""
    reacquired: int = 0
    """How often the reference had to be taken again after poor matches."""


@dataclass
class RunContext:
    drift_um: tuple[float, float] = (0.0, 0.0)
    """The drift measured at ``drift_t_s`` (x, y)."""
    drift_rate_um_per_s: tuple[float, float] = (0.0, 0.0)
    """Its rate, from the measurements so far: the drift at time t is predicted as
    ``drift_um + drift_rate_um_per_s * (t - drift_t_s)`` (feed-forward)."""
    drift_t_s: float | None = None
    applied_um: tuple[float, float] = (0.0, 0.0)
    """The correction in force (stage offset + beam shift), set by the last scan or cut."""
    stage_offset_um: tuple[float, float] = (0.0, 0.0)
    front_offset_um: float = 0.0
    face_z_um: float | None = None
    contrast: float | None = None
    brightness: float | None = None
    fiducial: FiducialTrack | None = None
    sample_state: dict[str, Any] | None = None
    """A simulated instrument's physical sample state at the commit (None on hardware)."""

    def record(self) -> dict[str, Any]:
        """The JSON-able part (journalled with each commit)."""
        values = asdict(self)
        if self.fiducial is not None:
            values["fiducial"] = {k: v for k, v in values["fiducial"].items() if k != "crops"}
        return values

    def arrays(self) -> dict[str, np.ndarray]:
        """The array part (stored in the slice file): the fiducial's reference crops."""
        if self.fiducial is None:
            return {}
        return {f"fiducial/{name}": crop for name, crop in self.fiducial.crops.items()}

    @classmethod
    def from_record(
        cls, record: dict[str, Any] | None, arrays: dict[str, np.ndarray] | None = None
    ) -> RunContext:
        if not record:
            return cls()
        values = dict(record)
        fiducial = values.pop("fiducial", None)
        context = cls(
            drift_um=tuple(values.get("drift_um", (0.0, 0.0))),  # type: ignore[arg-type]
            drift_rate_um_per_s=tuple(values.get("drift_rate_um_per_s", (0.0, 0.0))),  # type: ignore[arg-type]
            drift_t_s=values.get("drift_t_s"),
            applied_um=tuple(values.get("applied_um", (0.0, 0.0))),  # type: ignore[arg-type]
            stage_offset_um=tuple(values.get("stage_offset_um", (0.0, 0.0))),  # type: ignore[arg-type]
            front_offset_um=float(values.get("front_offset_um", 0.0)),
            face_z_um=values.get("face_z_um"),
            contrast=values.get("contrast"),
            brightness=values.get("brightness"),
            sample_state=values.get("sample_state"),
        )
        if fiducial:
            crops = {
                name.split("/", 1)[1]: array
                for name, array in (arrays or {}).items()
                if name.startswith("fiducial/")
            }
            context.fiducial = FiducialTrack(
                reference_z_um=float(fiducial["reference_z_um"]),
                centers_um={k: tuple(v) for k, v in fiducial["centers_um"].items()},  # type: ignore[misc]
                slopes={k: float(v) for k, v in fiducial["slopes"].items()},
                crops=crops,
                reacquired=int(fiducial.get("reacquired", 0)),
            )
        return context


@dataclass
class SliceContext:
    """What a step's plan function is told: its slice, its place in it, the run's context."""

    index: int
    recipe: Recipe
    run: RunContext
    nominal_front_um: float
    """Where the face should stand after this slice's cut: (index + 1) x thickness."""
    position: int = 0
    product: str | None = None
    """The name of the data product this step yields (``se_image``), if any."""
    notes: dict[str, Any] = field(default_factory=dict)
    """What the slice's steps measured, for its record (drift, face, match scores)."""
    costs: CostModel | None = None
    """The instrument's cost model (or floors): how long a frame takes, to split long scans."""
    dry_run: bool = False
    """Set when the plan is driven against the cost model to estimate it: acquisitions return
    stand-ins, so a plan skips analysing them."""

    @property
    def front_um(self) -> float:
        """Where to aim this slice's cut: the nominal front, corrected by what was measured."""
        return self.nominal_front_um + self.run.front_offset_um

    @property
    def thickness_um(self) -> float:
        return self.recipe.volume.slice_thickness_nm / 1000.0
