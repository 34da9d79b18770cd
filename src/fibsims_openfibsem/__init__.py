"""fibsims' OpenFIBSEM backend: Thermo, TESCAN and Zeiss FIBs (and fibsem's headless
``DemoMicroscope``) through OpenFIBSEM's ``FibsemMicroscope`` API.

Registered as ``openfibsem`` in the ``fibsims.instruments`` entry-point group. It provides the
stage, ion column, SE detector, chamber gauge and a wall clock; OpenFIBSEM drives no ToF-SIMS
spectrometer, so a SIMS run composes one from another backend
(``fibsims run RECIPE --instrument openfibsem --tof sim``). See docs/openfibsem.md.

Depends on ``fibsims.instrument`` and ``fibsem`` only (an import-linter contract keeps it so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fibsims.instrument.interfaces import Instrument
    from fibsims.instrument.registry import InstrumentOptions

BACKEND_NAME = "openfibsem"


def create_instrument(options: InstrumentOptions) -> Instrument:
    """Open the backend; fibsem is imported here, so a missing install is an InstrumentError
    naming the extra to install, not an ImportError at entry-point discovery."""
    from fibsims_openfibsem.factory import create_instrument as create

    return create(options)


__all__ = ["BACKEND_NAME", "create_instrument"]
