"""Instrument interfaces, value types and the backend registry."""

from fibsims.instrument.errors import (
    HardwareFault,
    InstrumentError,
    SafetyInterlock,
    TransientInstrumentError,
)
from fibsims.instrument.interfaces import (
    Clock,
    GroundTruth,
    Instrument,
    IonColumn,
    SEDetector,
    Stage,
    TofSpectrometer,
    Vacuum,
)
from fibsims.instrument.registry import InstrumentOptions, available_backends, open_instrument
from fibsims.instrument.types import (
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

__all__ = [
    "Clock",
    "FocusResult",
    "GroundTruth",
    "HardwareFault",
    "Image",
    "Instrument",
    "InstrumentError",
    "InstrumentOptions",
    "IonColumn",
    "MillPattern",
    "MillResult",
    "PatternKind",
    "Peak",
    "Polarity",
    "Raster",
    "RasterRequest",
    "SEDetector",
    "SafetyInterlock",
    "ScanRequest",
    "Spectrum",
    "Stage",
    "StagePosition",
    "TofSpectrometer",
    "TransientInstrumentError",
    "Vacuum",
    "available_backends",
    "open_instrument",
]
