"""fibsims_twin: the physics-backed digital twin of a Xe+ PFIB with a ToF-SIMS spectrometer.

The engine reaches it only through the ``fibsims.instruments`` entry point ``sim``
(:func:`create_instrument`), and ``fibsims estimate`` through ``fibsims.cost_models`` ``sim``
(:func:`fibsims_twin.cost_view.cost_view`). Ground truth: ``instrument.truth`` (the fields the
last image and raster saw, where they landed, and the sample's state to commit with every slice
and hand back on resume), or ``Phantom.from_sample(sample).face(z_um, x_um, y_um)`` for any face
of the unmilled phantom. Physics and sources: docs/physics.md.

The names below are imported on first use (PEP 562): importing a light submodule such as
``fibsims_twin.cost_view`` runs this file first, and must not import the phantom and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fibsims_twin.face import FaceTruth
    from fibsims_twin.factory import TwinInstrument, create_instrument
    from fibsims_twin.parameters import TwinParameters
    from fibsims_twin.phantom import Phantom
    from fibsims_twin.truth import TwinTruth

_HOMES = {
    "FaceTruth": "fibsims_twin.face",
    "Phantom": "fibsims_twin.phantom",
    "TwinInstrument": "fibsims_twin.factory",
    "TwinParameters": "fibsims_twin.parameters",
    "TwinTruth": "fibsims_twin.truth",
    "create_instrument": "fibsims_twin.factory",
}

__all__ = [
    "FaceTruth",
    "Phantom",
    "TwinInstrument",
    "TwinParameters",
    "TwinTruth",
    "create_instrument",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
