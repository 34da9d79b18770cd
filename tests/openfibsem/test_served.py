"""The instrument PC's side: ``fibsims serve --instrument openfibsem,tof=sim`` serves the
demo microscope (with the twin's spectrometer) over ZeroMQ, and the quick recipe runs against
it from another process by address, as it would from the analysis PC."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

pytest.importorskip("fibsem", reason="OpenFIBSEM (PyPI fibsem) is not installed")

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
SIMS_ON_THE_DEMO_LADDER = "slice.3.sims_raster.current_pa=1000"  # see test_quick_run.py


@pytest.mark.slow
def test_the_quick_recipe_runs_against_a_served_openfibsem_backend(tmp_path):
    env = {**os.environ, "FIBSEM_SIM_NO_DELAY": "1"}
    serve = [sys.executable, "-m", "fibsims", "serve", "--instrument", "openfibsem,tof=sim"]
    server = subprocess.Popen(
        [*serve, "--bind", "tcp://127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 60)
        assert ready, "the server did not start"
        line = server.stdout.readline()
        assert line.startswith("serving openfibsem,tof=sim on tcp://127.0.0.1:"), line
        endpoint = line.split()[3]
        out = tmp_path / "run"
        run = [sys.executable, "-m", "fibsims", "run", str(QUICK), "--instrument", endpoint]
        run += ["--set", SIMS_ON_THE_DEMO_LADDER, "--out", str(out), "--no-progress"]
        done = subprocess.run(run, capture_output=True, text=True, timeout=600, env=env)
        assert done.returncode == 0, done.stderr
        assert "completed: 6/6 slices" in done.stderr + done.stdout
        with h5py.File(out / "run.h5", "r") as f:
            assert f.attrs["instrument"] == endpoint  # the run knows only the address
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
        assert server.returncode == 0, err
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
