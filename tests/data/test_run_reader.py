"""Every product reads a run through RunData, which refuses what is not a run file it can read
with a message naming the problem and the way out, never an h5py traceback."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from fibsims.data.run_file import FORMAT, FORMAT_VERSION
from fibsims.data.run_reader import RunData, RunDataError


def test_a_torn_run_file_is_refused_with_the_way_out(tmp_path: Path):
    path = tmp_path / "run.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = FORMAT
        f["x"] = list(range(10_000))
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(RunDataError, match=r"torn or damaged.*fibsims resume"):
        RunData(path)


def test_a_missing_file_and_another_hdf5_file_are_refused(tmp_path: Path):
    with pytest.raises(RunDataError, match="does not exist"):
        RunData(tmp_path / "run.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["data"] = [1, 2, 3]
    with pytest.raises(RunDataError, match="is not a fibsims run file"):
        RunData(tmp_path / "other.h5")


def test_a_run_file_from_a_newer_fibsims_asks_for_an_upgrade(tmp_path: Path):
    with h5py.File(tmp_path / "run.h5", "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(RunDataError, match="upgrade fibsims"):
        RunData(tmp_path / "run.h5")
