"""Steps on ``every:`` schedules and named steps: which slices run them, under which product
name, how the estimate counts them, and that a run stopped part way and resumed runs the same
schedule."""

from __future__ import annotations

import pytest
from tests.engine.conftest import RECIPE_TEXT, MemoryStore

from fibsims.engine.costs import LowerBoundCosts, scan_floor_s
from fibsims.engine.estimate import estimate_plan
from fibsims.engine.journal import Journal
from fibsims.engine.plan import compile_plan
from fibsims.engine.runner import RunEngine
from fibsims.engine.states import RunState
from fibsims.instrument.errors import HardwareFault
from fibsims.instrument.types import ScanRequest
from fibsims.recipe import parse_recipe

SIMS_EVERY_2 = """
every:
  - {slices: 2, do: autofocus}
  - slices: 2
    offset: 1
    do: {sims_raster: {name: li_map, current_pa: 800, resolution: [8, 8], dwell_us: 10,
                       frames: 2, peaks: [7Li+]}}
"""
SCHEDULED = RECIPE_TEXT.replace("every: [{slices: 2, do: autofocus}]\n", SIMS_EVERY_2)
NAMED = RECIPE_TEXT.replace("se_image: {current_pa", "se_image: {name: overview, current_pa")


@pytest.fixture
def scheduled():
    return parse_recipe(SCHEDULED)


def kinds_and_products(plan, index: int) -> list[tuple[str, str | None]]:
    return [(s.kind, s.product) for s in plan.slice(index).steps]


def test_unnamed_steps_keep_the_product_names_they_always_had(recipe):
    plan = compile_plan(recipe)
    assert [s.product for s in plan.slice(1).steps] == [None, None, "se_image", "sims_raster"]


def test_a_named_step_names_its_product(recipe):
    plan = compile_plan(parse_recipe(NAMED))
    assert [s.product for s in plan.slice(1).steps] == [None, None, "overview", "sims_raster"]


def test_a_scheduled_step_runs_after_the_slice_steps_on_its_slices_only(scheduled):
    plan = compile_plan(scheduled)
    every_slice = [
        ("mill", None),
        ("rocking_polish", None),
        ("se_image", "se_image"),
        ("sims_raster", "sims_raster"),
    ]
    assert kinds_and_products(plan, 0) == [*every_slice[:2], ("autofocus", None), *every_slice[2:]]
    assert kinds_and_products(plan, 1) == [*every_slice, ("sims_raster", "li_map")]
    assert kinds_and_products(plan, 2)[2] == ("autofocus", None)
    assert kinds_and_products(plan, 3)[-1] == ("sims_raster", "li_map")
    positions = [s.position for s in plan.slice(1).steps]
    assert positions == [0, 1, 2, 3, 5], "len(slice) + its index in every:"
    assert plan.slice(1).steps[-1].schedule == 1


def test_before_puts_a_scheduled_step_ahead_of_the_named_slice_step(scheduled):
    text = SCHEDULED.replace("    offset: 1\n", "    offset: 1\n    before: se_image\n")
    plan = compile_plan(parse_recipe(text))
    assert [k for k, _ in kinds_and_products(plan, 1)] == [
        "mill",
        "rocking_polish",
        "sims_raster",
        "se_image",
        "sims_raster",
    ]


def test_scheduled_tasks_precede_a_scheduled_first_image(scheduled):
    text = SCHEDULED.replace(
        """  - se_image: {current_pa: 100, resolution: [32, 16], dwell_us: 1}
  - sims_raster: {current_pa: 800, resolution: [8, 8], dwell_us: 10, frames: 2,
                  peaks: [7Li+]}
""",
        "",
    ).replace("offset: 1", "offset: 0")
    plan = compile_plan(parse_recipe(text))
    assert [k for k, _ in kinds_and_products(plan, 0)] == [
        "mill",
        "rocking_polish",
        "autofocus",
        "sims_raster",
    ]
    assert [k for k, _ in kinds_and_products(plan, 1)] == ["mill", "rocking_polish"]


def test_the_estimate_counts_a_scheduled_step_on_its_slices_only(scheduled):
    se = scan_floor_s(ScanRequest((32, 16), 1.0, 1, 20.0))
    sims = scan_floor_s(ScanRequest((8, 8), 10.0, 2, 20.0))
    raster_bytes = 8 * 8 * 1 * 4 + 8
    estimate = estimate_plan(compile_plan(scheduled), None)  # li_map on slices 1 and 3
    assert estimate.by_kind_s == pytest.approx({"se_image": 4 * se, "sims_raster": 6 * sims})
    assert estimate.data_bytes == 4 * (32 * 16 * 2 + raster_bytes) + 2 * raster_bytes
    resumed = estimate_plan(compile_plan(scheduled), None, first_slice=2)  # slices 2, 3
    assert resumed.by_kind_s["sims_raster"] == pytest.approx(3 * sims)


def test_a_scheduled_step_at_another_current_pays_its_current_change(scheduled):
    class Switching(LowerBoundCosts):
        def current_change_s(self) -> float:
            return 1.0

    base = estimate_plan(compile_plan(scheduled), Switching()).by_kind_s["current_change"]
    slower = parse_recipe(SCHEDULED.replace("name: li_map, current_pa: 800", "current_pa: 300"))
    assert slower.every[1].step is not None
    changes = estimate_plan(compile_plan(slower), Switching()).by_kind_s["current_change"]
    assert changes == pytest.approx(base + 2), "800 pA -> 300 pA on slices 1 and 3"


def test_a_run_keeps_a_scheduled_product_on_its_slices_only(scheduled, make_instrument, journal):
    store = MemoryStore()
    outcome = RunEngine(compile_plan(scheduled), make_instrument(), store, journal).run()
    assert outcome.status is RunState.COMPLETED
    assert [sorted(r.rasters) for r in store.records] == [
        ["sims_raster"],
        ["li_map", "sims_raster"],
        ["sims_raster"],
        ["li_map", "sims_raster"],
    ]


def test_a_run_stopped_part_way_and_resumed_runs_the_same_schedule(
    scheduled, make_instrument, journal, tmp_path
):
    whole = MemoryStore()
    RunEngine(compile_plan(scheduled), make_instrument(), whole, journal).run()

    # the scheduled raster of slice 3 (the 6th raster) fails: the slice is set aside, the
    # run pauses
    second = Journal(tmp_path / "second.jsonl")
    store = MemoryStore()
    failing = make_instrument(fail_on={"raster": {6}}, error={"raster": HardwareFault})
    first = RunEngine(compile_plan(scheduled), failing, store, second).run()
    assert first.status is RunState.PAUSED
    done = second.committed_slices()
    assert done and done[-1] < 3
    resumed = RunEngine(compile_plan(scheduled), make_instrument(), store, second)
    assert resumed.run(first_slice=done[-1] + 1).status is RunState.COMPLETED

    def plan_of(records):
        return [
            (r.index, [(s.position, s.kind) for s in r.steps], sorted(r.rasters)) for r in records
        ]

    assert plan_of(store.records) == plan_of(whole.records), "nothing duplicated nor lost"


def test_an_autofocus_that_reports_no_defocus_records_none(recipe, make_instrument, journal):
    """A vendor routine reports its time only: the step's metadata keeps None, not zero."""
    from fibsims.instrument import FocusResult

    instrument = make_instrument()
    instrument.column.autofocus = lambda: FocusResult(duration_s=12.0)
    store = MemoryStore()
    outcome = RunEngine(compile_plan(recipe), instrument, store, journal).run()
    assert outcome.status is RunState.COMPLETED
    focus = [s.metadata for r in store.records for s in r.steps if s.kind == "autofocus"]
    assert focus and all(m == {"defocus_before_um": None, "defocus_after_um": None} for m in focus)
