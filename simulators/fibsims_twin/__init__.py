"""fibsims_twin: the physics-backed digital twin of a Xe+ PFIB with a ToF-SIMS spectrometer.

The engine reaches it only through the ``fibsims.instruments`` entry point ``sim``
(:func:`create_instrument`). Ground truth: ``instrument.truth`` (the fields the last image and
raster saw, where they landed, and the sample's state to commit with every slice and hand back
on resume), or ``Phantom.from_sample(sample).face(z_um, x_um, y_um)`` for any face of the
unmilled phantom. Physics and sources: docs/physics.md.
"""

from fibsims_twin.face import FaceTruth
from fibsims_twin.factory import TwinInstrument, create_instrument
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import Phantom
from fibsims_twin.truth import TwinTruth

__all__ = [
    "FaceTruth",
    "Phantom",
    "TwinInstrument",
    "TwinParameters",
    "TwinTruth",
    "create_instrument",
]
