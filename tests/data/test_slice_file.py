"""Slice files are written whole or not at all, and a failed write says how to recover."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.run_file import consolidate
from fibsims.data.slice_file import SliceFileStore
from fibsims.engine.records import SliceRecord, StepRecord
from fibsims.engine.store import StoreError
from fibsims.instrument.types import Image, StagePosition


def _record(index: int) -> SliceRecord:
    pixels = np.full((4, 6), index, dtype=np.uint16)
    image = Image(pixels, 10.0, 1.0, 1, 0.1, 0.5)
    step = StepRecord(0, "se_image", 10.0 * index, 10.0 * index + 1, 0.1, {"k": index})
    return SliceRecord(
        index=index,
        face_z_um=0.025 * (index + 1),
        started_s=10.0 * index,
        finished_s=10.0 * index + 2,
        stage=StagePosition(),
        steps=(step,),
        images={"se_image": image},
    )


def test_a_slice_file_appears_complete_and_leaves_no_temporary(tmp_path: Path):
    store = SliceFileStore(tmp_path / "slices")
    store.write_slice(_record(3))
    assert sorted(p.name for p in (tmp_path / "slices").iterdir()) == ["slice_000003.h5"]
    with h5py.File(store.path(3)) as f:
        assert f.attrs["slice"] == 3
        assert f["images/se_image"][0, 0] == 3


def test_a_write_that_fails_midway_leaves_the_earlier_slices_intact(tmp_path: Path, monkeypatch):
    store = SliceFileStore(tmp_path / "slices")
    store.write_slice(_record(0))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fibsims.data.slice_file._write", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        store.write_slice(_record(1))
    assert sorted(p.name for p in (tmp_path / "slices").iterdir()) == ["slice_000000.h5"]


def test_consolidation_stacks_slices_and_keeps_per_slice_values(tmp_path: Path):
    store = SliceFileStore(tmp_path / "slices")
    for i in range(3):
        store.write_slice(_record(i))
    run = consolidate(tmp_path / "run.h5", [store.path(i) for i in range(3)], {"seed": 5})
    with h5py.File(run) as f:
        assert f.attrs["seed"] == 5 and f.attrs["slices_completed"] == 3
        assert f["se_image/data"].shape == (3, 4, 6)
        assert [int(f["se_image/data"][i, 0, 0]) for i in range(3)] == [0, 1, 2]
        assert list(f["slices"]["index"]) == [0, 1, 2]
        assert np.allclose(f["slices"]["duration_s"], 2.0)
        assert f["se_image"].attrs["pixel_size_nm"] == 10.0
        assert "current_na" not in f["se_image"].attrs, "per-slice values are datasets"


def test_consolidation_refuses_slice_files_out_of_order(tmp_path: Path):
    store = SliceFileStore(tmp_path / "slices")
    for i in range(2):
        store.write_slice(_record(i))
    with pytest.raises(ValueError, match="holds slice 1"):
        consolidate(tmp_path / "run.h5", [store.path(1), store.path(0)], {})
    assert not (tmp_path / "run.h5").exists()
