"""Slice files are written whole or not at all, and a failed write says how to recover."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from fibsims.data.slice_file import SliceFileStore, damage, file_receipt, slice_image
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

    def disk_full(path, write):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("fibsims.data.slice_file.write_atomic", disk_full)
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
def test_an_hdf5_error_building_a_slice_is_a_store_error_not_a_traceback(
    tmp_path, monkeypatch, error
):
    store = SliceFileStore(tmp_path / "slices")

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr("fibsims.data.slice_file._fill", fails)
    with pytest.raises(StoreError, match="could not build slice 1"):
        store.write_slice(record(1))
    assert list((tmp_path / "slices").iterdir()) == [], "nothing written"


def test_a_slice_file_is_the_same_bytes_whenever_it_is_built(tmp_path):
    """Deterministic bytes: a resumed run's slice files equal an uninterrupted run's."""
    a = SliceFileStore(tmp_path / "a").write_slice(record(5))
    b = SliceFileStore(tmp_path / "b").write_slice(record(5))
    assert a == b
    assert (tmp_path / "a" / "slice_000005.h5").read_bytes() == slice_image(record(5))
