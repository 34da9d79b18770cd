"""Ground truth of the twin's last acquisitions and of its sample, for scoring runs against it.

Why from the acquisitions themselves: the truth must cover the field the instrument actually
saw (drift, stage errors and the sputtered depth included), pixel for pixel, so the devices keep
the phantom faces they imaged and this reads them back. Nothing is computed until asked: a run
without ``--truth`` pays nothing for the Li field of its images.

The sample's state (:mod:`fibsims_twin.snapshot`) is also read here: it is what a run commits
with every slice so that a resumed session continues on the same sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fibsims.instrument import AcquisitionGeometry, GroundTruth, InstrumentError
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.device import DeviceContext
from fibsims_twin.snapshot import take_sample_state
from fibsims_twin.tof import TwinTofSpectrometer


class TwinTruth(GroundTruth):
    """Truth maps of the last SE image and SIMS raster, where the last one landed, and the
    sample's state."""

    def __init__(
        self, detector: TwinSEDetector, tof: TwinTofSpectrometer, context: DeviceContext
    ) -> None:
        self._detector = detector
        self._tof = tof
        self._context = context

    def last_image_truth(self) -> dict[str, np.ndarray]:
        """``labels`` (uint8: 0 pore/epoxy, 1 NMC811, 2 CBD, 3 vacuum of a milled feature) and
        ``li_fraction`` (float32), both (height, width) on the image's pixels, at the face the
        image saw."""
        face = self._detector.last_face
        if face is None:
            raise InstrumentError("no SE image acquired yet: there is no image truth to give")
        return {"labels": face.labels.copy(), "li_fraction": face.li_fraction.copy()}

    def last_raster_truth(self) -> dict[str, np.ndarray]:
        """``labels`` (uint8, the phase found most often over the sputtered depth) and
        ``li_fraction``, ``ni_fraction``, ``mn_fraction``, ``co_fraction``, ``o_fraction``
        (float32 atomic fractions averaged over that depth), all (height, width) on the
        raster's pixels."""
        stack = self._tof.last_stack
        if stack is None:
            raise InstrumentError("no SIMS raster acquired yet: there is no raster truth to give")
        return {key: value.copy() for key, value in stack.truth().items()}

    def last_geometry(self) -> AcquisitionGeometry:
        """Where the most recent image or raster landed, at its middle: the true drift
        (x, y, z), the field centre in the sample frame (stage + beam shift - drift, moved by
        the stage's rotation error), the true face (its start plus half the depth it sputtered)
        and the defocus."""
        geometry = self._context.state.last_geometry
        if geometry is None:
            raise InstrumentError("no image or raster acquired yet: there is no geometry to give")
        return geometry

    def sample_state(self) -> dict[str, Any]:
        """The sample's physical state now (JSON-able, :mod:`fibsims_twin.snapshot`): commit it
        after a slice's last acquisition and open the next session with it."""
        c = self._context
        return take_sample_state(c.state, c.streams, c.clock, c.phantom)
