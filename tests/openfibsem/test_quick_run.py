"""End to end: the quick recipe runs on OpenFIBSEM's demo microscope with the twin's ToF-SIMS
spectrometer composed in (``fibsims run --instrument openfibsem --tof sim``).

The demo's ion ladder (fibsem's xenon rungs) has 0.3 and 1.00005 nA but not the quick
recipe's 800 pA SIMS current, so the run sets it to 1000 pA (``--set``), as an operator would
for this column. ``FIBSEM_SIM_NO_DELAY=1`` (fibsem's own switch) keeps the demo's imitation
sleeps out of the test; the run then takes seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from fibsims.instrument import InstrumentOptions, MillPattern, PatternKind

pytest.importorskip("fibsem", reason="OpenFIBSEM (PyPI fibsem) is not installed")

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
SIMS_ON_THE_DEMO_LADDER = "slice.3.sims_raster.current_pa=1000"
RUN_LIMIT_S = 120.0  # a few seconds here; generous for a loaded CI machine


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("openfibsem") / "run"
    env = {**os.environ, "FIBSEM_SIM_NO_DELAY": "1"}
    command = [
        sys.executable, "-m", "fibsims", "run", str(QUICK),
        "--instrument", "openfibsem", "--tof", "sim",
        "--set", SIMS_ON_THE_DEMO_LADDER,
        "--out", str(out), "--json-events",
    ]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < RUN_LIMIT_S
    return out, done


@pytest.mark.slow
def test_the_quick_recipe_completes_on_the_demo_microscope_with_the_twins_tof(quick_run):
    out, done = quick_run
    assert "completed: 6/6 slices" in done.stderr
    assert (out / "run.h5").is_file() and (out / "sims.h5").is_file()
    with h5py.File(out / "run.h5", "r") as f:
        assert f.attrs["instrument"] == "openfibsem,tof=sim"


@pytest.mark.slow
def test_fibsem_prints_nothing_into_the_event_stream(quick_run):
    _, done = quick_run
    lines = done.stdout.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)


def test_the_twins_spectrometer_sees_the_current_and_the_cuts_of_the_demo_column(open_backend):
    from fibsims.service.backends import PROBE_SAMPLE

    composed = open_backend(
        InstrumentOptions(seed=1, sample=PROBE_SAMPLE), name="openfibsem,tof=sim"
    )
    try:
        twin = composed.parts["sim"]
        assert composed.clock is composed.parts["openfibsem"].clock
        assert composed.truth is None and composed.capabilities.sims_scan is not None
        composed.column.set_current_na(1.0)  # the demo's 1.00005 nA; the twin's nearest rung
        assert twin.column.current_na() == pytest.approx(0.8)
        composed.column.unblank()
        before = twin.state.face_z_um
        cut = MillPattern(PatternKind.CLEANING_CROSS_SECTION, 20, 2, 16, before + 0.05)
        composed.column.set_current_na(15)
        composed.column.mill(cut)
        assert twin.state.face_z_um > before
    finally:
        composed.column.blank()
        composed.close()
    assert twin.column.is_blanked()


@pytest.mark.slow
def test_a_stopped_composed_run_resumes_on_the_same_composition(tmp_path):
    from typer.testing import CliRunner

    from fibsims.cli.app import app

    runner, out = CliRunner(), tmp_path / "run"
    stopped = runner.invoke(
        app,
        ["run", str(QUICK), "-o", str(out), "-q", "-i", "openfibsem", "--tof", "sim",
         "--set", SIMS_ON_THE_DEMO_LADDER, "--fault", "hardware_fault@slice=2,step=mill"],
    )  # fmt: skip
    assert stopped.exit_code == 1, stopped.output
    assert json.loads((out / "run.json").read_text())["instrument"] == "openfibsem,tof=sim"
    resumed = runner.invoke(app, ["resume", str(out), "-q"])
    assert resumed.exit_code == 0, resumed.output
    assert resumed.output.startswith("completed: 6/6 slices")
