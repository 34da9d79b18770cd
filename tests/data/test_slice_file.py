"""Slice files are written whole or not at all, and a failed write says how to recover."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.slice_file import SliceFileStore, damage, file_receipt
from fibsims.engine.records import SliceRecord, StepRecord
from fibsims.engine.store import StoreError
from fibsims.instrument.types import Image, StagePosition


def record(index: int) -> SliceRecord:
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
    store.write_slice(record(3))
    assert sorted(p.name for p in (tmp_path / "slices").iterdir()) == ["slice_000003.h5"]
    with h5py.File(store.path(3)) as f:
        assert f.attrs["slice"] == 3
        assert f["images/se_image"][0, 0] == 3


def test_a_write_that_fails_midway_leaves_the_earlier_slices_intact(tmp_path: Path, monkeypatch):
    store = SliceFileStore(tmp_path / "slices")
    store.write_slice(record(0))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fibsims.data.slice_file._write", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        store.write_slice(record(1))
    assert sorted(p.name for p in (tmp_path / "slices").iterdir()) == ["slice_000000.h5"]


def test_the_receipt_is_the_crc_and_size_of_the_durable_file(tmp_path: Path):
    store = SliceFileStore(tmp_path / "slices")
    receipt = store.write_slice(record(2))
    assert receipt == file_receipt(store.path(2))
    assert receipt.bytes == store.path(2).stat().st_size and len(receipt.crc32) == 8
    assert damage(store.path(2), receipt) is None


@pytest.mark.parametrize(
    ("harm", "found"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:-100]), "bytes, "),
        (lambda p: p.write_bytes(b"\0" + p.read_bytes()[1:]), "checksum does not match"),
        (lambda p: p.unlink(), "gone"),
    ],
    ids=["truncated", "one byte changed", "deleted"],
)
def test_damage_to_a_committed_file_is_named(tmp_path: Path, harm, found):
    store = SliceFileStore(tmp_path / "slices")
    receipt = store.write_slice(record(0))
    harm(store.path(0))
    assert found in (damage(store.path(0), receipt) or "")


@pytest.mark.parametrize(
    "error",
    [RuntimeError("Can't decrement id ref count (file write failed)"), ValueError("bad")],
)
def test_h5py_errors_on_close_are_a_store_error_not_a_traceback(tmp_path, monkeypatch, error):
    """h5py reports a full disk when it flushes on close as RuntimeError, not OSError."""
    store = SliceFileStore(tmp_path / "slices")

    def fails_on_close(*args, **kwargs):
        raise error

    monkeypatch.setattr("fibsims.data.slice_file._write", fails_on_close)
    with pytest.raises(StoreError, match="free space or fix the folder, then resume"):
        store.write_slice(record(1))
    assert list((tmp_path / "slices").iterdir()) == [], "no temporary left behind"
