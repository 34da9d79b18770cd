"""Pydantic mirrors of the instrument value types (``types.py``), for the wire.

Why mirrors instead of validating the dataclasses directly: the dataclasses stay plain (any
backend builds them without pydantic), while the wire gets strict models that refuse unknown
fields and carry arrays as references to raw frames (:class:`ArrayRef`), never inline.
Each model converts both ways: ``of(value, pack)`` on the sending end, ``value(arrays)`` on the
receiving end. A field added to a value type within version 1 has a default that means "as
before" and is left out of a message while it holds it (:class:`AddedFieldsModel`), so peers
built before it still understand every message that does not need it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Self

import numpy as np
from pydantic import AfterValidator

from fibsims.instrument.transport.frames import wire_array
from fibsims.instrument.transport.protocol import AddedFieldsModel, WireModel
from fibsims.instrument.transport.scalars import (
    Count,
    Finite,
    Index,
    Real,
    WireInt,
    non_finite_field,
)
from fibsims.instrument.types import (
    AcquisitionGeometry,
    FocusResult,
    Image,
    MillPattern,
    MillResult,
    PatternKind,
    Peak,
    Polarity,
    Raster,
    RasterRequest,
    ScanRequest,
    Spectrum,
    StagePosition,
)


class ArrayPack:
    """Collects the arrays of one message; each gets a reference by position."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []

    def add(self, array: np.ndarray) -> ArrayRef:
        self.arrays.append(wire_array(np.asarray(array)))
        return ArrayRef(array=len(self.arrays) - 1)


class ArrayRef(WireModel):
    """Stands for the array frame at position ``array`` of the same message."""

    array: Index

    def resolve(self, arrays: list[np.ndarray]) -> np.ndarray:
        if self.array >= len(arrays):
            raise ValueError(f"array reference {self.array} but the message has {len(arrays)}")
        return arrays[self.array]


class PlainW(AddedFieldsModel):
    """A mirror of a dataclass with scalar fields only: converted field by field, by name, so a
    field added to the dataclass only needs adding here with its type (and its name in
    ``added_fields`` when it has a default, so older peers still read the message)."""

    target: ClassVar[type]

    @classmethod
    def of(cls, value: Any) -> Self:
        return cls.model_validate({name: getattr(value, name) for name in cls.model_fields})

    def value(self) -> Any:
        return self.target(**dict(self))


class StagePositionW(PlainW):
    """A read-back position (a result may carry NaN) or, as :data:`StageTargetW`, a target."""

    target = StagePosition
    x_um: Real = 0.0
    y_um: Real = 0.0
    z_um: Real = 0.0
    tilt_deg: Real = 0.0
    rotation_deg: Real = 0.0


def _all_finite(model: StagePositionW) -> StagePositionW:
    problem = non_finite_field(model)
    if problem is not None:
        raise ValueError(f"{problem}; a position sent as a parameter must be finite")
    return model


StageTargetW = Annotated[StagePositionW, AfterValidator(_all_finite)]


class MillPatternW(PlainW):
    """Only ever a parameter: every number finite. ``rotation_deg`` came later: a message
    without it is an unrotated pattern, and one at 0 leaves it out."""

    target = MillPattern
    added_fields = frozenset({"rotation_deg"})
    kind: PatternKind
    width_um: Finite
    height_um: Finite
    depth_um: Finite
    front_z_um: Finite
    center_x_um: Finite = 0.0
    center_y_um: Finite = 0.0
    rotation_deg: Finite = 0.0


class MillResultW(PlainW):
    target = MillResult
    duration_s: Real
    dose_nc: Real
    face_z_um: Real
    current_na: Real


class FocusResultW(PlainW):
    """A vendor's autofocus may report no defocus: null on the wire, None in the result."""

    target = FocusResult
    defocus_before_um: Real | None = None
    defocus_after_um: Real | None = None
    duration_s: Real


class AcquisitionGeometryW(PlainW):
    """Ground truth of where an acquisition landed (a result: NaN is carried)."""

    target = AcquisitionGeometry
    drift_um: tuple[Real, Real, Real]
    field_center_um: tuple[Real, Real]
    face_z_um: Real
    defocus_um: Real


class ScanRequestW(PlainW):
    """Only ever a parameter. Sizes are checked against the message limit by the server
    (:mod:`replysize`) before the instrument scans."""

    target = ScanRequest
    added_fields = frozenset({"center_x_um", "center_y_um"})
    resolution_px: tuple[Count, Count]
    dwell_us: Finite
    frames: Count
    field_width_um: Finite
    center_x_um: Finite = 0.0
    center_y_um: Finite = 0.0


class RasterRequestW(WireModel):
    scan: ScanRequestW
    polarity: Polarity
    peaks: tuple[str, ...]

    @classmethod
    def of(cls, value: RasterRequest) -> RasterRequestW:
        return cls(scan=ScanRequestW.of(value.scan), polarity=value.polarity, peaks=value.peaks)

    def value(self) -> RasterRequest:
        return RasterRequest(scan=self.scan.value(), polarity=self.polarity, peaks=self.peaks)


class ImageW(WireModel):
    pixels: ArrayRef
    pixel_size_nm: Real
    dwell_us: Real
    frames: WireInt
    current_na: Real
    duration_s: Real
    saturated_fraction: Real = 0.0

    @classmethod
    def of(cls, value: Image, pack: ArrayPack) -> ImageW:
        return cls(
            pixels=pack.add(value.pixels),
            pixel_size_nm=value.pixel_size_nm,
            dwell_us=value.dwell_us,
            frames=value.frames,
            current_na=value.current_na,
            duration_s=value.duration_s,
            saturated_fraction=value.saturated_fraction,
        )

    def value(self, arrays: list[np.ndarray]) -> Image:
        fields = dict(self)
        fields["pixels"] = self.pixels.resolve(arrays)
        return Image(**fields)


class PeakW(WireModel):
    label: str
    mass_u: Real
    lower_u: Real
    upper_u: Real


class SpectrumW(WireModel):
    counts: ArrayRef
    mass_axis_u: ArrayRef
    calibration_p1: Real
    calibration_p2: Real
    sample_interval_s: Real

    @classmethod
    def of(cls, value: Spectrum, pack: ArrayPack) -> SpectrumW:
        return cls(
            counts=pack.add(value.counts),
            mass_axis_u=pack.add(value.mass_axis_u),
            calibration_p1=value.calibration_p1,
            calibration_p2=value.calibration_p2,
            sample_interval_s=value.sample_interval_s,
        )

    def value(self, arrays: list[np.ndarray]) -> Spectrum:
        return Spectrum(
            counts=self.counts.resolve(arrays),
            mass_axis_u=self.mass_axis_u.resolve(arrays),
            calibration_p1=self.calibration_p1,
            calibration_p2=self.calibration_p2,
            sample_interval_s=self.sample_interval_s,
        )


class RasterW(WireModel):
    peaks: tuple[PeakW, ...]
    count_maps: ArrayRef
    spectrum: SpectrumW
    pixel_size_nm: Real
    dwell_us: Real
    frames: WireInt
    current_na: Real
    duration_s: Real
    saturated_lines: ArrayRef
    extraction_rate_hz: Real | None = None
    peak_window_fraction: Real | None = None
    max_ions_per_extraction: WireInt | None = None
    duty_cycles: tuple[Real, ...] | None = None

    @classmethod
    def of(cls, value: Raster, pack: ArrayPack) -> RasterW:
        peaks = tuple(
            PeakW(label=p.label, mass_u=p.mass_u, lower_u=p.lower_u, upper_u=p.upper_u)
            for p in value.peaks
        )
        return cls(
            peaks=peaks,
            count_maps=pack.add(value.count_maps),
            spectrum=SpectrumW.of(value.spectrum, pack),
            pixel_size_nm=value.pixel_size_nm,
            dwell_us=value.dwell_us,
            frames=value.frames,
            current_na=value.current_na,
            duration_s=value.duration_s,
            saturated_lines=pack.add(value.saturated_lines),
            extraction_rate_hz=value.extraction_rate_hz,
            peak_window_fraction=value.peak_window_fraction,
            max_ions_per_extraction=value.max_ions_per_extraction,
            duty_cycles=value.duty_cycles,
        )

    def value(self, arrays: list[np.ndarray]) -> Raster:
        return Raster(
            peaks=tuple(Peak(**p.model_dump()) for p in self.peaks),
            count_maps=self.count_maps.resolve(arrays),
            spectrum=self.spectrum.value(arrays),
            pixel_size_nm=self.pixel_size_nm,
            dwell_us=self.dwell_us,
            frames=self.frames,
            current_na=self.current_na,
            duration_s=self.duration_s,
            saturated_lines=self.saturated_lines.resolve(arrays),
            extraction_rate_hz=self.extraction_rate_hz,
            peak_window_fraction=self.peak_window_fraction,
            max_ions_per_extraction=self.max_ions_per_extraction,
            duty_cycles=None if self.duty_cycles is None else tuple(self.duty_cycles),
        )


class TruthW(WireModel):
    """A dict of named ground-truth maps (only simulated instruments have any)."""

    maps: dict[str, ArrayRef]

    @classmethod
    def of(cls, value: dict[str, np.ndarray], pack: ArrayPack) -> TruthW:
        return cls(maps={name: pack.add(array) for name, array in value.items()})

    def value(self, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
        return {name: ref.resolve(arrays) for name, ref in self.maps.items()}
