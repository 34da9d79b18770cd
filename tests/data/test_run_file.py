"""run.h5 stacks the committed slices, flags the ones whose data was lost after commit, and
is checked on disk against what was written before anyone is told the run is done."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from tests.data.test_slice_file import record

from fibsims.data.run_file import (
    RunFileError,
    SliceSource,
    consolidate,
    run_file_matches,
    verify,
)
from fibsims.data.slice_file import SliceFileStore


def _committed(tmp_path: Path, n: int) -> list[SliceSource]:
    store = SliceFileStore(tmp_path / "slices")
    return [SliceSource(i, store.path(i), store.write_slice(record(i))) for i in range(n)]


def test_consolidation_stacks_slices_and_keeps_per_slice_values(tmp_path: Path):
    slices = _committed(tmp_path, 3)
    done = consolidate(tmp_path / "run.h5", slices, {"seed": 5})
    assert done.missing == {} and done.slices == 3
    with h5py.File(done.path) as f:
        assert f.attrs["seed"] == 5 and f.attrs["slices_completed"] == 3
        assert f["entry/se_image/data"].shape == (3, 4, 6)
        assert [int(f["entry/se_image/data"][i, 0, 0]) for i in range(3)] == [0, 1, 2]
        assert list(f["entry/slices"]["index"]) == [0, 1, 2]
        assert list(f["entry/slices"]["missing"]) == [0, 0, 0]
        assert [c.decode() for c in f["entry/slices"]["file_crc32"]] == [
            s.receipt.crc32 for s in slices
        ]
        assert np.allclose(f["entry/slices"]["duration_s"], 2.0)
        assert f["entry/se_image"].attrs["pixel_size_nm"] == 10.0
        assert "current_na" not in f["entry/se_image"].attrs, "per-slice values are datasets"


def test_a_slice_damaged_after_commit_is_flagged_missing_and_numbering_kept(tmp_path: Path):
    slices = _committed(tmp_path, 3)
    slices[0].path.write_bytes(b"not hdf5 at all")  # passes no h5py open
    done = consolidate(tmp_path / "run.h5", slices, {}, missing={2: "its file is gone"})
    assert set(done.missing) == {0, 2} and "cannot be read as a slice" in done.missing[0]
    with h5py.File(done.path) as f:
        assert list(f["entry/slices"]["missing"]) == [1, 0, 1]
        assert list(f["entry/slices"]["index"]) == [0, 1, 2]
        assert list(f.attrs["slices_missing"]) == [0, 2]
        assert int(f["entry/se_image/data"][1, 0, 0]) == 1, "slice 1 stays in row 1"
        assert np.isnan(f["entry/se_image/duration_s"][0]), "a float row of a lost slice is NaN"
        assert int(f["entry/se_image/data"][0].max()) == 0


def test_a_file_holding_another_slice_is_flagged_not_stacked_in_the_wrong_row(tmp_path: Path):
    slices = _committed(tmp_path, 2)
    swapped = [SliceSource(0, slices[1].path, slices[0].receipt), slices[1]]
    done = consolidate(tmp_path / "run.h5", swapped, {})
    assert "holds slice 1" in done.missing[0]


def test_verification_catches_a_run_file_that_does_not_read_back(tmp_path: Path, monkeypatch):
    slices = _committed(tmp_path, 2)
    real_verify = verify

    def corrupt_then_verify(path, sources, written=None, between=None):
        with h5py.File(path, "r+") as f:
            f["entry/se_image/data"][1, 0, 0] = 999
        real_verify(path, sources, written or {})

    monkeypatch.setattr("fibsims.data.run_file.verify", corrupt_then_verify)
    with pytest.raises(RunFileError, match="se_image/data of slice 1 reads back changed"):
        consolidate(tmp_path / "run.h5", slices, {})


def test_a_run_file_matches_only_the_journal_it_was_written_from(tmp_path: Path):
    slices = _committed(tmp_path, 3)
    consolidate(tmp_path / "run.h5", slices, {})
    assert run_file_matches(tmp_path / "run.h5", slices)
    assert not run_file_matches(tmp_path / "run.h5", slices[:2])
    other = [slices[0], slices[1], SliceSource(2, slices[2].path, slices[0].receipt)]
    assert not run_file_matches(tmp_path / "run.h5", other)
    (tmp_path / "run.h5").write_bytes(b"torn")
    assert not run_file_matches(tmp_path / "run.h5", slices)


def test_a_full_disk_while_writing_the_run_file_keeps_the_old_one(tmp_path, monkeypatch):
    slices = _committed(tmp_path, 2)
    consolidate(tmp_path / "run.h5", slices[:1], {"status": "paused"})

    def disk_full(*args, **kwargs):
        raise RuntimeError("Can't write data (file write failed: No space left on device)")

    monkeypatch.setattr("fibsims.data.run_file._write", disk_full)
    with pytest.raises(RunFileError, match="No space left on device"):
        consolidate(tmp_path / "run.h5", slices, {"status": "completed"})
    assert run_file_matches(tmp_path / "run.h5", slices[:1]), "the earlier run.h5 is intact"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
