"""Fixtures shared across the suite: recipe variants and run-file comparison."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "recipes" / "quick.yaml"


def read_datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file, by name."""
    found: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                found.__setitem__(name, np.asarray(obj[()]))
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
    return found


WHERE_THE_INSTRUMENT_WAS = "entry/instrument/name"
"""The instrument's address (``sim``, ``tcp://...``): the one dataset that differs, by
design, between the same run in-process and over the wire."""


def assert_same_datasets(a: Path, b: Path) -> None:
    """Same dataset names, dtypes and values (NaN equal to NaN in float datasets)."""
    left, right = read_datasets(a), read_datasets(b)
    assert left.keys() == right.keys()
    for name in left.keys() - {WHERE_THE_INSTRUMENT_WAS}:
        assert left[name].dtype == right[name].dtype, f"dataset {name} changed dtype"
        nan_ok = left[name].dtype.kind == "f"
        assert np.array_equal(left[name], right[name], equal_nan=nan_ok), f"dataset {name} differs"


@pytest.fixture(scope="session", autouse=True)
def _twin_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The twin's calibration cache in the session's temporary folder (inherited by the CLI
    processes the tests start), never the user's ~/.cache."""
    os.environ["FIBSIMS_TWIN_CACHE"] = str(tmp_path_factory.mktemp("twin-cache"))


@pytest.fixture
def datasets_of() -> Callable[[Path], dict[str, np.ndarray]]:
    return read_datasets


@pytest.fixture
def same_datasets() -> Callable[[Path, Path], None]:
    return assert_same_datasets


@pytest.fixture
def quick_variant(tmp_path: Path) -> Callable[..., Path]:
    """``quick_variant(slices=30)`` writes quick.yaml with changed volume.slices (and any
    literal text replacements given as pairs) and returns its path."""

    def make(slices: int | None = None, *replacements: tuple[str, str]) -> Path:
        text = QUICK.read_text()
        if slices is not None:
            assert "slices: 6}" in text
            text = text.replace("slices: 6}", f"slices: {slices}}}")
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / f"quick-{slices}.yaml"
        path.write_text(text)
        return path

    return make
