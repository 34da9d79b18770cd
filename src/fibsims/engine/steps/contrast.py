"""``auto_contrast`` (scheduled): set the SE detector's contrast and brightness so the face
fills the signal range without clipping, as an operator's auto contrast/brightness does.

How: scan a quarter-resolution single frame of the field about to be imaged, read the 0.5th
and 99.5th percentiles, and move contrast (gain) and brightness (offset) until they sit at
:data:`LOW_TARGET` and :data:`HIGH_TARGET` of full scale. The mapping from the 0..1 settings
to gain and offset differs between instruments, so each setting is found by secant steps from
a small probe, at most :data:`MAX_SCANS` scans. The settings join the run context (they are
instrument state a resumed run keeps), and the step logs them before and after.

numpy is imported by the functions that judge a scan: a dry run (``fibsims estimate``) never
does.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from fibsims.engine import messages as m
from fibsims.engine.context import SliceContext
from fibsims.engine.driver import PlanFn
from fibsims.engine.steps import StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.engine.steps.tasks import ScheduledStep
from fibsims.instrument.errors import InstrumentError

if TYPE_CHECKING:
    import numpy as np

FULL_SCALE = float(2**16 - 1)
"""The uint16 counts' full scale."""
LOW_TARGET = 0.05
HIGH_TARGET = 0.75
TOLERANCE = 0.05
"""Done when the spread (high - low) is within this share of its target."""
MAX_SCANS = 5
PROBE = 0.05
"""The first contrast step, to learn how the spread answers."""


class ContrastFailed(InstrumentError):
    """The image could not be brought into range (a blank or saturated field)."""


def _levels(image_pixels: np.ndarray) -> tuple[float, float]:
    import numpy as np

    low, high = np.percentile(image_pixels, [0.5, 99.5])
    return float(low) / FULL_SCALE, float(high) / FULL_SCALE


@step_kind("auto_contrast")
def auto_contrast(task: ScheduledStep, ctx: SliceContext) -> PlanFn:
    contrast, brightness = yield m.ReadDetector()
    before = (contrast, brightness)
    assert task.scan is not None, "the plan gives auto contrast the scan it tunes for"
    width, height = task.scan.resolution_px
    probe = replace(task.scan, resolution_px=(max(16, width // 4), max(16, height // 4)), frames=1)
    current, history = 0.0, []
    for _ in range(MAX_SCANS):
        yield m.SetDetector(contrast, brightness)
        current = yield from beam_on(task.current_na)
        try:
            image = yield m.AcquireImage(probe)
        finally:
            yield m.Blank()
        if ctx.dry_run:
            break
        low, high = _levels(image.pixels)
        spread = high - low
        history.append((contrast, spread))
        if spread <= 0:
            raise ContrastFailed("the probe scan is uniform: nothing to set contrast on")
        on_target = abs(spread - (HIGH_TARGET - LOW_TARGET)) <= TOLERANCE * spread
        if on_target and abs(low - LOW_TARGET) <= TOLERANCE:
            break
        contrast = _next_contrast(history)
        brightness = _unit(brightness + (LOW_TARGET - low) * _offset_gain())
    yield m.SetDetector(contrast, brightness)
    ctx.run.contrast, ctx.run.brightness = contrast, brightness
    return StepOutput(
        current,
        {
            "contrast_before": before[0],
            "brightness_before": before[1],
            "contrast": contrast,
            "brightness": brightness,
            "scans": len(history) or 1,
        },
    )


def _offset_gain() -> float:
    """Brightness per unit of full scale: vendors map 0..1 onto about the full range."""
    return 1.0


def _unit(value: float) -> float:
    """``value`` clipped to a setting's range 0..1."""
    import numpy as np

    return float(np.clip(value, 0.0, 1.0))


def _next_contrast(history: list[tuple[float, float]]) -> float:
    """A secant step on log(spread) against contrast; a probe step first."""
    target = math.log(HIGH_TARGET - LOW_TARGET)
    contrast, spread = history[-1]
    if len(history) < 2 or history[-2][0] == contrast:
        step = PROBE if spread < HIGH_TARGET - LOW_TARGET else -PROBE
        return _unit(contrast + step)
    (c0, s0), (c1, s1) = history[-2], history[-1]
    slope = (math.log(s1) - math.log(s0)) / (c1 - c0)
    if slope <= 0:
        return _unit(c1 + PROBE)
    return _unit(c1 + (target - math.log(s1)) / slope)
