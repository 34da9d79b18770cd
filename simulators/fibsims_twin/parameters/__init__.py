"""Every physical, timing and numerical parameter of the twin, named, with its unit and source.

Why one package: a reviewer checks the twin's physics against ``docs/physics.md`` (which mirrors
these tables) without reading the models, and a calibration replaces values by building a
different :class:`TwinParameters` (``dataclasses.replace``) instead of editing code. No other
module of the twin holds a bare physical literal. The tables are split by what they describe:
the machine (:mod:`.instrument`), the detectors (:mod:`.detectors`), the sample (:mod:`.sample`)
and the numerics (:mod:`.numerics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims_twin.parameters.constants import (
    AMPERE_PER_NANOAMPERE,
    ELEMENTARY_CHARGE_C,
    GAUSSIAN_FWHM_PER_SIGMA,
    NM_PER_UM,
    PM_PER_UM,
    RAD_PER_DEG,
    RAD_PER_MRAD,
    SECOND_PER_HOUR,
    SECOND_PER_MICROSECOND,
    SECOND_PER_MINUTE,
    UM3_PER_CM3,
)
from fibsims_twin.parameters.detectors import DetectorParameters, TofParameters
from fibsims_twin.parameters.instrument import (
    ColumnParameters,
    DriftParameters,
    IncidenceParameters,
    MillingParameters,
    StageParameters,
)
from fibsims_twin.parameters.numerics import NoiseParameters
from fibsims_twin.parameters.sample import (
    MaterialParameters,
    MicrostructureParameters,
    PhantomParameters,
)


@dataclass(frozen=True)
class TwinParameters:
    """The whole parameter set of the twin; pass a modified copy to the factory to calibrate."""

    column: ColumnParameters = field(default_factory=ColumnParameters)
    stage: StageParameters = field(default_factory=StageParameters)
    drift: DriftParameters = field(default_factory=DriftParameters)
    milling: MillingParameters = field(default_factory=MillingParameters)
    incidence: IncidenceParameters = field(default_factory=IncidenceParameters)
    detector: DetectorParameters = field(default_factory=DetectorParameters)
    tof: TofParameters = field(default_factory=TofParameters)
    materials: MaterialParameters = field(default_factory=MaterialParameters)
    phantom: PhantomParameters = field(default_factory=PhantomParameters)
    microstructure: MicrostructureParameters = field(default_factory=MicrostructureParameters)
    noise: NoiseParameters = field(default_factory=NoiseParameters)


__all__ = [
    "AMPERE_PER_NANOAMPERE",
    "ELEMENTARY_CHARGE_C",
    "GAUSSIAN_FWHM_PER_SIGMA",
    "NM_PER_UM",
    "PM_PER_UM",
    "RAD_PER_DEG",
    "RAD_PER_MRAD",
    "SECOND_PER_HOUR",
    "SECOND_PER_MICROSECOND",
    "SECOND_PER_MINUTE",
    "UM3_PER_CM3",
    "ColumnParameters",
    "DetectorParameters",
    "DriftParameters",
    "IncidenceParameters",
    "MaterialParameters",
    "MicrostructureParameters",
    "MillingParameters",
    "NoiseParameters",
    "PhantomParameters",
    "StageParameters",
    "TofParameters",
    "TwinParameters",
]
