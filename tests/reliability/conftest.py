"""Shared helpers of the failure-path suite: small recipes, in-process and CLI runs, run-file
comparison (datasets *and* attributes), folder snapshots, and waiting on a live run's files.

Every subprocess is bounded by a timeout; every recipe is derived from recipes/quick.yaml.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from tests.conftest import read_datasets

from fibsims.engine.journal import Journal
from fibsims.service.runs import ResumeRequest, RunReport, RunRequest, resume_run, start_run
from fibsims.service.status import run_status

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
SEED = 1
CLI_TIMEOUT_S = 120.0
LOCK_FILES = {".fibsims.lock", "owner.json"}


# -- recipes ----------------------------------------------------------------------------------
def recipe_text(slices: int = 6, *replacements: tuple[str, str]) -> str:
    """quick.yaml with ``slices`` slices and literal replacements (each must apply)."""
    text = QUICK.read_text(encoding="utf-8")
    assert "slices: 6}" in text
    text = text.replace("slices: 6}", f"slices: {slices}}}")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def write_recipe(path: Path, slices: int = 6, *replacements: tuple[str, str]) -> Path:
    path.write_text(recipe_text(slices, *replacements), encoding="utf-8")
    return path


BIG_IMAGES = ("resolution: [192, 144]", "resolution: [768, 576]")
LONG_LIMITS = (("limits: {max_hours: 2}", "limits: {max_hours: 30}"),)


@pytest.fixture(scope="session")
def recipes(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("recipes")


@pytest.fixture(scope="session")
def recipe4(recipes) -> Path:
    """4 slices of quick.yaml: a run takes a fraction of a second in-process."""
    return write_recipe(recipes / "quick4.yaml", 4)


@pytest.fixture(scope="session")
def recipe30(recipes) -> Path:
    """30 slices with 768x512 SE images: slices and finalizing take visible wall time."""
    return write_recipe(recipes / "quick30.yaml", 30, BIG_IMAGES)


@pytest.fixture(scope="session")
def recipe300(recipes) -> Path:
    """300 big-image slices: a run a second CLI process (which takes a second or more to start
    on a loaded machine) always reaches long before its end."""
    return write_recipe(recipes / "quick300.yaml", 300, BIG_IMAGES, *LONG_LIMITS)


# -- in-process runs --------------------------------------------------------------------------
def quiet(text: str) -> None:
    """A ``tell`` that keeps test output clean."""


def run_inproc(recipe: Path, out: Path, *faults: str, seed: int = SEED) -> RunReport:
    return start_run(
        RunRequest(recipe, out=out, seed=seed, progress=False, faults=faults, tell=quiet)
    )


def resume_inproc(folder: Path, *faults: str, max_hours: float | None = None) -> RunReport:
    return resume_run(
        ResumeRequest(folder, progress=False, faults=faults, max_hours=max_hours, tell=quiet)
    )


@pytest.fixture(scope="session")
def whole4(recipe4, tmp_path_factory) -> Path:
    """An uninterrupted run of recipe4 (seed 1): the reference every resumed run must equal."""
    out = tmp_path_factory.mktemp("whole") / "whole4"
    assert run_inproc(recipe4, out).ok
    return out


@pytest.fixture(scope="session")
def recipe12(recipes) -> Path:
    """12 slices with 768x512 SE images: a couple of seconds, finalizing visible."""
    return write_recipe(recipes / "quick12.yaml", 12, BIG_IMAGES)


@pytest.fixture(scope="session")
def whole12(recipe12, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "whole12"
    assert run_inproc(recipe12, out).ok
    return out


@pytest.fixture(scope="session")
def whole30(recipe30, tmp_path_factory) -> Path:
    """An uninterrupted run of recipe30 (seed 1), for the kill trials."""
    out = tmp_path_factory.mktemp("whole") / "whole30"
    assert run_inproc(recipe30, out).ok
    return out


@pytest.fixture(scope="session")
def paused4(recipe4, tmp_path_factory) -> Path:
    """recipe4 stopped paused by a hardware fault at slice 3's mill: 3 slices committed.
    Copy it (:func:`clone`) before changing anything."""
    out = tmp_path_factory.mktemp("paused") / "paused4"
    report = run_inproc(recipe4, out, "hardware_fault@slice=3,step=mill")
    assert report.status == "paused", report.summary
    assert committed(out) == [0, 1, 2]
    return out


def clone(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to, symlinks=True)
    return to


@pytest.fixture
def no_fsync(monkeypatch) -> None:
    """Skip fsync (durability against power loss is not what a test that cuts files by hand
    checks; hundreds of in-process resumes go three times faster)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


# -- the CLI ----------------------------------------------------------------------------------
def fibsims_argv(*args: Any) -> list[str]:
    return [sys.executable, "-m", "fibsims", *map(str, args)]


def cli(*args: Any, timeout: float = CLI_TIMEOUT_S, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        fibsims_argv(*args), capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw
    )


def start_cli(*args: Any, **kw: Any) -> subprocess.Popen:
    return subprocess.Popen(
        fibsims_argv(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        **kw,
    )


def finish(process: subprocess.Popen, timeout: float = CLI_TIMEOUT_S) -> tuple[str, str]:
    """Wait for a started process (killing it if it overruns) and return its output."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=10)
        raise


def run_script(script: str, *args: Any) -> subprocess.CompletedProcess:
    """Run ``python -c script *args`` from the project root: a CLI with something patched."""
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        cwd=ROOT,
    )


@pytest.fixture
def reap() -> Iterator[Callable[[subprocess.Popen], subprocess.Popen]]:
    """Register processes a test starts; any still running when it ends are killed."""
    started: list[subprocess.Popen] = []

    def add(process: subprocess.Popen) -> subprocess.Popen:
        started.append(process)
        return process

    yield add
    for process in started:
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            process.communicate(timeout=10)


def assert_clean_output(*texts: str) -> None:
    """No traceback ever reaches the user."""
    for text in texts:
        assert "Traceback" not in text, text
        assert "KeyboardInterrupt" not in text, text


def status_json(folder: Path) -> dict[str, Any]:
    done = cli("status", folder, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- reading a run folder ---------------------------------------------------------------------
def committed(folder: Path) -> list[int]:
    return Journal(folder / "journal.jsonl").committed_slices()


def journal_lines(folder: Path) -> list[bytes]:
    return (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def log_events(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def snapshot(folder: Path, ignore: set[str] = LOCK_FILES) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), lock files left out."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ignore
    }


def all_attrs(path: Path) -> dict[str, dict[str, Any]]:
    """Every object's attributes; dimension-scale links as the names they point at (HDF5
    object references compare by identity, so two equal files would differ)."""
    found: dict[str, dict[str, Any]] = {"/": dict(path_attrs(path, "/"))}
    with h5py.File(path, "r") as f:

        def named(value: Any) -> Any:
            if isinstance(value, h5py.Reference):
                return f[value].name
            if isinstance(value, np.void):
                return tuple(named(v) for v in value)
            if isinstance(value, np.ndarray) and value.dtype.kind in "OV":
                return repr([named(v) for v in value])
            return value

        f.visititems(
            lambda name, obj: found.__setitem__(name, {k: named(v) for k, v in obj.attrs.items()})
        )
    found["/"].pop("created_utc", None)  # when the run was started: each run its own
    return found


def path_attrs(path: Path, name: str) -> dict[str, Any]:
    with h5py.File(path, "r") as f:
        return dict(f[name].attrs)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return type(a) is type(b) and (a == b or (a != a and b != b))


_REFERENCES: dict[tuple[str, int], tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]] = {}


def _reference(path: Path) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """A reference run file's datasets and attributes, read once (they never change)."""
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _REFERENCES:
        _REFERENCES[key] = (read_datasets(path), all_attrs(path))
    return _REFERENCES[key]


def assert_same_run(reference: Path, other: Path) -> None:
    """run.h5 equal dataset by dataset (names, dtypes, values) *and* attribute by attribute on
    every object (status, seed, slices_completed, slices_missing, recipe, calibrations...)."""
    left_data, right_data = _reference(reference)[0], read_datasets(other)
    assert left_data.keys() == right_data.keys()
    for name in left_data:
        assert same_value(left_data[name], right_data[name]), f"dataset {name} differs"
    left, right = _reference(reference)[1], all_attrs(other)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].keys() == right[name].keys(), f"attributes of {name} differ"
        for key in left[name]:
            assert same_value(left[name][key], right[name][key]), (
                f"{name} attribute {key!r}: {left[name][key]!r} != {right[name][key]!r}"
            )


def assert_completed_like(reference: Path, folder: Path, state_file: bool = True) -> None:
    """The run in ``folder`` ended completed with every slice exactly once, its run.h5 equal
    to the uninterrupted reference, slices/ removed, and state.json completed (``state_file``
    False: only ``fibsims status``, which reads the journal first)."""

    planned = int(path_attrs(reference / "run.h5", "/")["slices_planned"])
    assert committed(folder) == list(range(planned)), "every slice exactly once"
    assert_same_run(reference / "run.h5", folder / "run.h5")
    assert run_status(folder)["state"] == "completed"
    if state_file:
        state = read_json(folder / "state.json")
        assert state["state"] == "completed", state
    assert not (folder / "slices").exists(), "a completed run keeps no slice files"
    assert read_json(folder / "summary.json")["status"] == "completed"
    ended = [e for e in Journal(folder / "journal.jsonl").entries() if "status" in e]
    assert ended and ended[-1]["status"] == "completed"
    leftovers = [p.name for p in folder.rglob("*.tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


# -- waiting on a live run --------------------------------------------------------------------
def wait_until(
    predicate: Callable[[], bool],
    process: subprocess.Popen | None = None,
    timeout_s: float = 60.0,
    poll_s: float = 0.002,
) -> bool:
    """Poll until ``predicate`` holds; False if ``process`` ended first."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if process is not None and process.poll() is not None:
            return predicate()
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(poll_s)
    return True


def state_is(folder: Path, wanted: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return read_json(folder / "state.json").get("state") == wanted
        except (OSError, ValueError):
            return False

    return check


def commits_reach(folder: Path, count: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return len(committed(folder)) >= count
        except Exception:
            return False

    return check


def send(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.kill(process.pid, signum)


# -- the helpers, for test modules (conftest is not importable under --import-mode=importlib) --
HELPERS = types.SimpleNamespace(
    **{name: value for name, value in dict(globals()).items() if not name.startswith("_")}
)


@pytest.fixture(scope="session")
def h() -> types.SimpleNamespace:
    """The suite's helper functions (``h.run_inproc``, ``h.cli``, ``h.assert_same_run``...)."""
    return HELPERS
