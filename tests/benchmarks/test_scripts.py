"""Every benchmark script at least starts: ``--help`` parses its options without running it.

The benchmarks themselves are not tests (they time the machine: ``make bench``); this only
catches a script broken by a rename in the package, which nothing else would notice.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "null_instrument.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_prints_its_help(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
