"""fibsims_twin: the physics-backed digital twin of a Xe+ PFIB with a ToF-SIMS spectrometer.

The engine reaches it only through the ``fibsims.instruments`` entry point ``sim``
(:func:`create_instrument`). Validation code reads the ground truth with
``Phantom.from_sample(sample).face(z_um, x_um, y_um)``. Physics and sources: docs/physics.md.
"""

from fibsims_twin.factory import TwinInstrument, create_instrument
from fibsims_twin.parameters import TwinParameters
from fibsims_twin.phantom import FaceTruth, Phantom

__all__ = ["FaceTruth", "Phantom", "TwinInstrument", "TwinParameters", "create_instrument"]
