"""The twin served over ZeroMQ gives the same ground truth as in-process: the same image,
acquisition geometry and sample state after the same actions (a cut, a rotated fiducial
groove, detector settings), and a session opened on that state (a resumed run) holds it on
both. Only the instrument layer and the recipe loader are used, not the engine."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from fibsims.instrument import (
    InstrumentOptions,
    MillPattern,
    PatternKind,
    ScanRequest,
    open_instrument,
)
from fibsims.instrument.transport import connect
from fibsims.recipe import load_recipe

QUICK = Path(__file__).resolve().parents[3] / "recipes" / "quick.yaml"
SEED = 1


FIDUCIAL = MillPattern(PatternKind.BOX, 1.0, 4.0, 2.0, 10.0, 3.0, -2.0, rotation_deg=45.0)
"""An angled groove ahead of the face: if its rotation were lost on the wire, the served
twin's sample state would differ."""


def twin(options: InstrumentOptions):
    return open_instrument("sim", options)


def _twin_or_skip(options: InstrumentOptions):
    """The twin, unless it does not implement the interfaces' newest members yet."""
    try:
        return twin(options)
    except TypeError as error:
        if "abstract" not in str(error):
            raise
        pytest.skip(f"the twin does not implement the whole interface yet: {error}")


def _slice_with_a_fiducial(instrument) -> np.ndarray:
    """Cut, mill a rotated groove ahead of the face, adjust the detector and image."""
    column, detector = instrument.column, instrument.se_detector
    column.blank()
    column.set_current_na(15.0)
    column.unblank()
    column.mill(MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20.0, 15.0, 18.0, 0.075))
    column.mill(FIDUCIAL)  # wholly ahead of the face: the twin keeps it in the sample state
    column.set_current_na(0.1)
    detector.set_contrast(0.625)
    detector.set_brightness(0.4375)
    assert (detector.contrast(), detector.brightness()) == (0.625, 0.4375)
    scan = ScanRequest(resolution_px=(64, 48), dwell_us=0.5, frames=2, field_width_um=20.0)
    pixels = detector.acquire_image(scan).pixels
    column.blank()
    return pixels


def test_a_served_twin_gives_the_in_process_geometry_and_sample_state(serve, fast):
    """The same actions on the twin in-process and served: the same image, geometry and
    sample state; and a session opened on that state (a resume) holds it on both."""
    options = InstrumentOptions(seed=SEED, sample=load_recipe(QUICK).sample.model_dump(mode="json"))
    local = _twin_or_skip(options)
    server = serve(twin)
    remote = connect(server.endpoint, options, settings=fast)
    try:
        assert local.truth is not None and remote.truth is not None
        assert np.array_equal(_slice_with_a_fiducial(remote), _slice_with_a_fiducial(local))
        assert remote.truth.last_geometry() == local.truth.last_geometry()
        state = local.truth.sample_state()
        assert remote.truth.sample_state() == json.loads(json.dumps(state))
        resume = dataclasses.replace(options, start_time_s=local.clock.now_s(), sample_state=state)
    finally:
        remote.close()
        local.close()
    local, remote = twin(resume), connect(server.endpoint, resume, settings=fast)
    try:
        assert remote.truth is not None and local.truth is not None
        assert remote.truth.sample_state() == json.loads(json.dumps(local.truth.sample_state()))
        assert np.array_equal(_slice_with_a_fiducial(remote), _slice_with_a_fiducial(local))
        assert remote.truth.last_geometry() == local.truth.last_geometry()
    finally:
        remote.close()
        local.close()
