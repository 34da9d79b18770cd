"""``fibsims estimate`` asks the twin's cost view (entry point ``fibsims.cost_models``) instead of
opening the twin: the same numbers and problems as the opened twin, without its phantom and
image physics in the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fibsims.instrument import InstrumentOptions, open_cost_view
from fibsims.service import estimate as estimate_service
from fibsims.service.estimate import EstimateRequest, estimate_recipe

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted((ROOT / "recipes").glob("*.yaml"))
OFF_THE_MACHINE = (
    "slice.0.mill.current_na=13.7",  # off the ladder
    "instrument.stage_tilt_deg=85",  # beyond the stage's tilt
    "slice.3.sims_raster.dwell_us=50.01",  # off the scan generator's dwell step
)


def _both_ways(monkeypatch, request: EstimateRequest) -> tuple[dict, dict]:
    """(from the cost view, from the opened twin); the end time is now, so it is left out."""
    light = estimate_recipe(request)
    with monkeypatch.context() as patch:
        patch.setattr(estimate_service, "open_cost_view", lambda name, options: None)
        opened = estimate_recipe(request)
    for result in (light, opened):
        result.pop("ends_utc_if_started_now")
    return light, opened


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_the_cost_view_estimates_every_example_recipe_as_the_opened_twin(monkeypatch, recipe):
    light, opened = _both_ways(monkeypatch, EstimateRequest(recipe, truth=True))
    assert light == opened
    assert light["simulated_seconds"] > 0 and light["problems"] == []


def test_the_cost_view_finds_the_problems_the_opened_twin_finds(monkeypatch):
    request = EstimateRequest(ROOT / "recipes" / "quick.yaml", overrides=OFF_THE_MACHINE)
    light, opened = _both_ways(monkeypatch, request)
    assert light == opened
    assert len(light["problems"]) == 3, light["problems"]


def test_a_restored_sample_or_injected_faults_need_the_twin_itself():
    assert open_cost_view("sim", InstrumentOptions(seed=1)) is not None
    assert open_cost_view("sim", InstrumentOptions(seed=1, sample_state={})) is None
    assert open_cost_view("sim", InstrumentOptions(seed=1, faults=({"kind": "x"},))) is None
    assert open_cost_view("tcp://127.0.0.1:5555", InstrumentOptions(seed=1)) is None
    assert open_cost_view("no-such-backend", InstrumentOptions(seed=1)) is None


ESTIMATE_IN_A_FRESH_PROCESS = """
import json, sys
sys.argv = ["fibsims", "estimate", sys.argv[1], "--json"]
from fibsims.cli.entry import main
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
NOT_FOR_AN_ESTIMATE = (
    "numpy",  # a quarter of the start-up: the dry run's stand-ins make their arrays only if read
    "typer",  # plain arguments are read without it (fibsims.cli.estimate_plain)
    "rich",  # --json prints plain JSON; an error would print through rich
    "fibsims.cli.app",  # every other command
    "scipy",  # the twin's image physics
    "skimage",  # fiducial tracking
    "h5py",  # run files
    "zmq",  # the instrument link
    "fibsims_twin.phantom",
    "fibsims_twin.face",
    "fibsims_twin.factory",
    "fibsims.data.live",
    "fibsims.service.runs",
)


def test_the_estimate_command_imports_neither_the_twin_physics_nor_the_run_machinery():
    """What makes ``fibsims estimate`` quick (issue 13), held by what it imports rather than by
    a timing that depends on the machine."""
    recipe = ROOT / "recipes" / "nmc811-li-map.yaml"
    done = subprocess.run(
        [sys.executable, "-c", ESTIMATE_IN_A_FRESH_PROCESS, str(recipe)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["slices"] == 400
    modules = json.loads(done.stderr.splitlines()[-1])
    loaded = [
        m
        for m in modules
        for heavy in NOT_FOR_AN_ESTIMATE
        if m.split(".")[0] == heavy or m == heavy or m.startswith(heavy + ".")
    ]
    assert loaded == []
