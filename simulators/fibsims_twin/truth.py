"""Ground truth of the twin's last acquisitions, for scoring runs against the phantom.

Why from the acquisitions themselves: the truth must cover the field the instrument actually
saw (drift, stage errors and the sputtered depth included), pixel for pixel, so the devices keep
the phantom faces they imaged and this reads them back. Nothing is computed until asked: a run
without ``--truth`` pays nothing for the Li field of its images.
"""

from __future__ import annotations

import numpy as np

from fibsims.instrument import GroundTruth, InstrumentError
from fibsims_twin.detector import TwinSEDetector
from fibsims_twin.tof import TwinTofSpectrometer


class TwinTruth(GroundTruth):
    """Truth maps of the last SE image and the last SIMS raster."""

    def __init__(self, detector: TwinSEDetector, tof: TwinTofSpectrometer) -> None:
        self._detector = detector
        self._tof = tof

    def last_image_truth(self) -> dict[str, np.ndarray]:
        """``labels`` (uint8: 0 pore/epoxy, 1 NMC811, 2 CBD) and ``li_fraction`` (float32), both
        (height, width) on the image's pixels, at the face the image saw."""
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
