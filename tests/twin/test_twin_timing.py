"""The default recipe's 23 hours: the engine's estimate on the twin equals the documented tally."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import compile_plan
from fibsims.instrument import InstrumentOptions, MillPattern, PatternKind, open_instrument
from fibsims.recipe import load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "nmc811-li-map.yaml"
TALLY_S_PER_SLICE = 208.21  # docs/physics.md, Timing tally of the default recipe
CUT_S = 31.37  # docs/physics.md: 160 um3 / (0.34 um3/nC x 15 nA)


def test_the_default_recipe_simulates_23_hours_as_the_tally_says() -> None:
    recipe = load_recipe(RECIPE)
    twin = open_instrument("sim", InstrumentOptions(1, recipe.sample.model_dump(mode="json")))
    estimate = estimate_plan(compile_plan(recipe), twin.costs)
    assert estimate.total_s / 3600 == pytest.approx(23.0, rel=0.10)  # the band, 20.7-25.3 h
    assert estimate.total_s == pytest.approx(400 * TALLY_S_PER_SLICE, rel=1e-3)
    mill = recipe.mill_step
    cut = MillPattern(
        PatternKind.CLEANING_CROSS_SECTION,
        recipe.volume.face_width_um,
        mill.pattern_height_um,
        mill.depth_um,
        0.025,
    )
    assert twin.costs.mill_s(cut, mill.current_na) == pytest.approx(CUT_S, abs=0.01)
