"""A new step kind is one plan function: the runner drives it, its product reaches the store,
and the estimate costs it, with no other change to the engine."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fibsims.engine import messages as m
from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import Plan, PlannedStep, SlicePlan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.engine.steps import PLANS, StepOutput, step_kind
from fibsims.engine.steps.beam import beam_on
from fibsims.instrument.types import ScanRequest


@dataclass(frozen=True)
class OverviewStep:
    """A made-up step: a small overview image of the face, kept as ``overview``."""

    current_na: float = 0.1


@pytest.fixture
def overview_kind():
    @step_kind("overview")
    def overview(step: OverviewStep, ctx):
        current = yield from beam_on(step.current_na)
        try:
            image = yield m.AcquireImage(ScanRequest((16, 8), 2.0, 1, 20.0), product="overview")
        finally:
            yield m.Blank()
        yield m.Keep("overview", image)
        return StepOutput(current, {"mean": float(image.pixels.mean())})

    yield overview
    PLANS.pop("overview")


class PlanWithOverview(Plan):
    def slice(self, index: int) -> SlicePlan:
        base = super().slice(index)
        extra = PlannedStep("overview", OverviewStep(), len(self.recipe.slice), "overview")
        return SlicePlan(base.index, base.nominal_front_um, (*base.steps, extra))


def test_a_plan_function_alone_adds_a_step_kind(
    overview_kind, recipe, make_instrument, make_store, journal
):
    store = make_store()
    plan = PlanWithOverview(recipe)
    outcome = RunEngine(plan, make_instrument(), store, journal).run()
    assert outcome.status is RunState.COMPLETED
    assert all("overview" in record.images for record in store.records)
    assert store.records[0].images["overview"].pixels.shape == (8, 16)
    assert [s.kind for s in store.records[0].steps][-1] == "overview"
    assert estimate_plan(plan, None).by_kind_s["overview"] == pytest.approx(4 * 16 * 8 * 2e-6)
