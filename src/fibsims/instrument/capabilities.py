"""What a backend offers, declared once so a recipe is checked against it before anything moves.

Why: a real column has a fixed current ladder (apertures), a scan generator with a largest
frame and a dwell that comes in steps, a field of view it cannot exceed. A recipe asking for
13.7 nA or a 10,000 x 10,000 raster must fail at preflight, naming the values the instrument
does have, not an hour into the set-up. Each backend fills this from what its vendor API
reports (or, for the twin, from its parameters); preflight (:mod:`fibsims.engine.preflight`)
compares the recipe with it. A backend that declares nothing is checked against its column's
ladder only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def rung_within(ladder: Sequence[float], current_na: float, tolerance: float) -> float | None:
    """The rung of ``ladder`` a request of ``current_na`` selects: the nearest, if it lies
    within ``tolerance`` x the request; None when every rung is farther (the request is
    refused, not snapped). The one rule the column, the twin and preflight apply."""
    if not ladder:
        return None
    rung = min(ladder, key=lambda r: abs(r - current_na))
    return float(rung) if abs(rung - current_na) <= tolerance * current_na else None


def neighbouring_rungs(ladder: Sequence[float], current_na: float) -> list[float]:
    """The rungs either side of ``current_na`` (one when it is beyond the ladder's ends)."""
    ordered = sorted(ladder)
    return [r for r in ordered if r < current_na][-1:] + [r for r in ordered if r > current_na][:1]


@dataclass(frozen=True)
class ScanCapabilities:
    """What one scan generator (the SE imaging scan, or the ToF-SIMS raster) accepts."""

    max_resolution_px: tuple[int, int]
    """Largest frame, (width, height) in pixels."""
    min_dwell_us: float
    max_dwell_us: float
    dwell_step_us: float | None = None
    """Dwell times come in multiples of this (None: any value in range)."""
    preset_resolutions_px: tuple[tuple[int, int], ...] = ()
    """The only resolutions offered, when the scan generator has presets (empty: any up to
    the largest)."""

    def dwell_problem(self, dwell_us: float) -> str | None:
        """Why ``dwell_us`` cannot be scanned, naming the nearest values that can; else None."""
        if not self.min_dwell_us <= dwell_us <= self.max_dwell_us:
            return (
                f"dwell_us {dwell_us:g} is outside the scan generator's "
                f"{self.min_dwell_us:g} to {self.max_dwell_us:g} us"
            )
        step = self.dwell_step_us
        if step is None:
            return None
        steps = dwell_us / step
        if math.isclose(steps, round(steps), rel_tol=0, abs_tol=1e-6):
            return None
        below, above = math.floor(steps) * step, math.ceil(steps) * step
        return (
            f"dwell_us {dwell_us:g} is not a multiple of the scan generator's {step:g} us step; "
            f"nearest: {below:.6g} or {above:.6g}"
        )

    def resolution_problem(self, resolution_px: tuple[int, int]) -> str | None:
        """Why ``resolution_px`` cannot be scanned, naming what can; else None."""
        if self.preset_resolutions_px:
            if tuple(resolution_px) in self.preset_resolutions_px:
                return None
            offered = ", ".join(f"[{w}, {h}]" for w, h in self.preset_resolutions_px)
            return f"resolution {list(resolution_px)} is not one of the presets: {offered}"
        max_w, max_h = self.max_resolution_px
        if resolution_px[0] > max_w or resolution_px[1] > max_h:
            return (
                f"resolution {list(resolution_px)} is larger than the scan generator's "
                f"largest frame [{max_w}, {max_h}]"
            )
        return None


@dataclass(frozen=True)
class Capabilities:
    """What the instrument offers: currents, voltages, scans, field of view, stage tilt."""

    current_ladder_na: tuple[float, ...]
    current_tolerance: float
    """A requested current may differ from a rung by this share of itself (the rungs' own
    labels are rounded); farther, it is refused."""
    voltage_range_kv: tuple[float, float]
    max_field_width_um: float
    se_scan: ScanCapabilities
    sims_scan: ScanCapabilities | None = None
    """None: no ToF spectrometer to raster with."""
    stage_tilt_range_deg: tuple[float, float] = (-90.0, 90.0)
    stage_travel_um: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None = (
        None
    )
    """The stage's (low, high) travel in x, y and z, in um (None: not declared)."""
    devices: tuple[str, ...] = field(default=("stage", "column", "se_detector", "tof"))
    """Which devices of :data:`DEVICES` the instrument has (what checks and the conformance kit
    may ask of it)."""
    beam_shift_range_um: float | None = None
    """The electrostatic beam shift reaches +- this on each axis, in um (None: not declared)."""
    stage_rotation_range_deg: tuple[float, float] | None = None
    """The (low, high) stage rotation, in deg (None: a full turn either way)."""
    stage_tolerance_um: float = 0.0
    """How far a stage read-back (x, y, z) may lie from the target a move was given, in um."""
    stage_tolerance_deg: float = 0.0
    """How far a read-back tilt or rotation may lie from the target, in deg."""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (for the wire and for ``fibsims backends --json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Capabilities:
        """The inverse of :meth:`to_json`; a malformed document raises ValueError."""
        try:
            sims = data.get("sims_scan")
            rotation = data.get("stage_rotation_range_deg")
            return cls(
                current_ladder_na=tuple(float(c) for c in data["current_ladder_na"]),
                current_tolerance=float(data["current_tolerance"]),
                voltage_range_kv=_pair(data["voltage_range_kv"], float),
                max_field_width_um=float(data["max_field_width_um"]),
                se_scan=_scan(data["se_scan"]),
                sims_scan=None if sims is None else _scan(sims),
                stage_tilt_range_deg=_pair(data.get("stage_tilt_range_deg", (-90, 90)), float),
                stage_travel_um=_travel(data.get("stage_travel_um")),
                devices=tuple(str(d) for d in data.get("devices", ())),
                beam_shift_range_um=_optional(data.get("beam_shift_range_um")),
                stage_rotation_range_deg=(None if rotation is None else _pair(rotation, float)),
                stage_tolerance_um=float(data.get("stage_tolerance_um", 0.0)),
                stage_tolerance_deg=float(data.get("stage_tolerance_deg", 0.0)),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed capabilities: {error!r}") from None

    def stage_problems(self, where: str, x_um: float, y_um: float, z_um: float) -> list[str]:
        """Why a stage position is beyond the declared travel, one problem per axis."""
        if self.stage_travel_um is None:
            return []
        found = []
        for axis, value, (low, high) in zip(
            ("x_um", "y_um", "z_um"), (x_um, y_um, z_um), self.stage_travel_um, strict=True
        ):
            if not low <= value <= high:
                found.append(
                    f"{where}.{axis}: {value:g} um is beyond the stage's travel "
                    f"{low:g} to {high:g} um"
                )
        return found

    def nearest_currents_na(self, current_na: float) -> list[float]:
        """The rungs either side of ``current_na`` (one when it is beyond the ladder)."""
        return neighbouring_rungs(self.current_ladder_na, current_na)

    def rung_for(self, current_na: float) -> float | None:
        """The rung a request selects, or None when it is farther than the tolerance."""
        return rung_within(self.current_ladder_na, current_na, self.current_tolerance)

    def has(self, device: str) -> bool:
        """Whether the instrument declares ``device`` (one of :data:`DEVICES`)."""
        return device in self.devices

    def beam_shift_problem(self, where: str, shift_um: float) -> str | None:
        """Why a beam shift of ``shift_um`` (per axis) is beyond the deflectors; else None."""
        limit = self.beam_shift_range_um
        if limit is None or abs(shift_um) <= limit:
            return None
        return (
            f"{where}: {shift_um:g} um is beyond the column's beam-shift range of +-{limit:g} um "
            f"per axis; use at most {limit:g}"
        )

    def rotation_problem(self, where: str, rotation_deg: float) -> str | None:
        """Why a stage rotation is beyond the declared range; else None."""
        if self.stage_rotation_range_deg is None:
            return None
        low, high = self.stage_rotation_range_deg
        if low <= rotation_deg <= high:
            return None
        return (
            f"{where}: {rotation_deg:g} deg is beyond the stage's rotation {low:g} to {high:g} deg"
        )


DEVICES = ("stage", "column", "se_detector", "tof", "vacuum", "costs", "truth")
"""Device names a backend may list in :attr:`Capabilities.devices`: the :class:`Instrument`
fields, of which ``tof``, ``vacuum``, ``costs`` and ``truth`` are optional in practice."""


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _pair(value: Any, kind: type) -> tuple[Any, Any]:
    low, high = value
    return kind(low), kind(high)


def _travel(
    data: Any,
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]] | None:
    if data is None:
        return None
    x, y, z = data
    return _pair(x, float), _pair(y, float), _pair(z, float)


def _scan(data: dict[str, Any]) -> ScanCapabilities:
    step = data.get("dwell_step_us")
    return ScanCapabilities(
        max_resolution_px=_pair(data["max_resolution_px"], int),
        min_dwell_us=float(data["min_dwell_us"]),
        max_dwell_us=float(data["max_dwell_us"]),
        dwell_step_us=None if step is None else float(step),
        preset_resolutions_px=tuple(_pair(r, int) for r in data.get("preset_resolutions_px", ())),
    )
