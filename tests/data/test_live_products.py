"""run.h5 and sims.h5 written as the run goes are the files the slice files would make, and
anything that goes wrong on the way only costs the shortcut: finalizing then makes both from
the slice files, as before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from tests.conftest import QUICK, assert_same_datasets
from tests.reliability.conftest import all_attrs

from fibsims.data import live_products, live_sims
from fibsims.data.run_file import consolidate, read_attrs
from fibsims.data.sims_file import write_sims_next_to
from fibsims.service import finalize as finalize_module
from fibsims.service.folder import open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run

EVERY_2 = """every:
  - slices: 2
    offset: 1
    do: {sims_raster: {name: li_map, current_pa: 800, resolution: [32, 32], dwell_us: 50,
                       frames: 2, peaks: [6Li+, 7Li+, 59Co+]}}
"""
SIMS = """  - sims_raster:    {current_pa: 800, resolution: [64, 48], dwell_us: 50, frames: 4,
                     polarity: positive, peaks: [6Li+, 7Li+, 55Mn+, 58Ni+, 59Co+]}
"""
RUN_ATTRS_SET_BY_WRITING = ("format", "format_version", "slices_completed", "slices_missing")


def _recipe(folder: Path, slices: int, scheduled: bool = False) -> Path:
    text = QUICK.read_text().replace("slices: 6}", f"slices: {slices}}}")
    if scheduled:
        text = text.replace(SIMS, "").replace("every: [{slices: 3, do: autofocus}]\n", EVERY_2)
    path = folder / "recipe.yaml"
    path.write_text(text)
    return path


def _run(folder: Path, recipe: Path) -> Path:
    out = folder / "run"
    request = RunRequest(recipe_path=recipe, out=out, seed=3, progress=False, tell=lambda t: None)
    assert start_run(request).ok
    return out


@pytest.fixture
def keep_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Completed runs keep ``slices/``, so the files can be made from them again."""
    monkeypatch.setattr(finalize_module, "_remove_slices", lambda run, missing: None)


@pytest.fixture
def made_from_slice_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each file finalizing had to make from the slice files (the fallback)."""
    made: list[str] = []
    real_consolidate, real_refresh = finalize_module.consolidate, finalize_module.refresh_sims_file

    def consolidate_spy(*args: Any, **kwargs: Any) -> Any:
        made.append("run.h5")
        return real_consolidate(*args, **kwargs)

    def refresh_spy(*args: Any, **kwargs: Any) -> Any:
        made.append("sims.h5")
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(finalize_module, "consolidate", consolidate_spy)
    monkeypatch.setattr(finalize_module, "refresh_sims_file", refresh_spy)
    return made


def _rebuilt(run: Path, into: Path) -> Path:
    """run.h5 and sims.h5 made again from the run's slice files, the way finalizing does."""
    into.mkdir()
    attrs = {
        k: v for k, v in read_attrs(run / "run.h5").items() if k not in RUN_ATTRS_SET_BY_WRITING
    }
    sources = open_run_folder(RunLayout(run)).sources
    consolidate(into / "run.h5", sources, attrs, {})
    write_sims_next_to(into / "run.h5")
    return into


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    nan_ok = a.dtype.kind == "f" and b.dtype.kind == "f"
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=nan_ok)


def _assert_same_files(left: Path, right: Path) -> None:
    for name in ("run.h5", "sims.h5"):
        assert_same_datasets(left / name, right / name)
        ours, theirs = all_attrs(left / name), all_attrs(right / name)
        assert ours.keys() == theirs.keys()
        for path, attrs in ours.items():
            assert attrs.keys() == theirs[path].keys(), f"{name}:{path}'s attributes differ"
            for key, value in attrs.items():
                assert _same(value, theirs[path][key]), f"{name}:{path} attribute {key} differs"


def _no_temporaries(run: Path) -> None:
    assert not list(run.glob("*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize("scheduled", [False, True], ids=["every-slice", "raster-every-2nd"])
def test_files_written_as_the_run_goes_equal_those_made_from_the_slice_files(
    tmp_path: Path, keep_slices: None, made_from_slice_files: list[str], scheduled: bool
) -> None:
    run = _run(tmp_path, _recipe(tmp_path, 4, scheduled))
    assert made_from_slice_files == [], "finalizing fell back to the slice files"
    _assert_same_files(run, _rebuilt(run, tmp_path / "rebuilt"))
    _no_temporaries(run)


def _fails_on_slice(index: int) -> Callable[..., None]:
    real_add = live_sims.LiveSimsFile.add

    def add(self: live_sims.LiveSimsFile, i: int, source: h5py.File) -> None:
        if i == index:
            raise OSError(28, "No space left on device")
        real_add(self, i, source)

    return add


def test_a_writer_that_fails_part_way_leaves_finalizing_to_the_slice_files(
    tmp_path: Path,
    keep_slices: None,
    made_from_slice_files: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live_sims.LiveSimsFile, "add", _fails_on_slice(2))
    run = _run(tmp_path, _recipe(tmp_path, 4))
    assert made_from_slice_files == ["run.h5", "sims.h5"]
    _assert_same_files(run, _rebuilt(run, tmp_path / "rebuilt"))
    _no_temporaries(run)


def test_the_writer_stops_and_frees_its_files_when_the_disk_runs_low(
    tmp_path: Path, made_from_slice_files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_free = live_products.free_bytes
    calls: list[int] = []

    def low_after_two(folder: Path) -> int:
        calls.append(1)
        return 0 if len(calls) > 2 else real_free(folder)

    monkeypatch.setattr(live_products, "free_bytes", low_after_two)
    run = _run(tmp_path, _recipe(tmp_path, 4))
    assert made_from_slice_files == ["run.h5", "sims.h5"]
    with h5py.File(run / "run.h5") as f:
        assert f.attrs["slices_completed"] == 4
    _no_temporaries(run)


def _paused_at_slice_2(folder: Path) -> Path:
    """The 4-slice recipe paused by a hardware fault at slice 2's mill: 2 slices committed."""
    out = folder / "run"
    request = RunRequest(
        recipe_path=_recipe(folder, 4),
        out=out,
        seed=3,
        progress=False,
        faults=("hardware_fault@slice=2,step=mill",),
        tell=lambda t: None,
    )
    assert start_run(request).status == "paused"
    return out


def test_a_resumed_session_writes_them_as_it_goes_from_the_earlier_slices_on(
    tmp_path: Path, keep_slices: None, made_from_slice_files: list[str]
) -> None:
    """The slices committed before the pause are stacked again from their files (checked
    against their receipts), then the new ones as they commit: no restacking at the end."""
    out = _paused_at_slice_2(tmp_path)
    made_from_slice_files.clear()  # only the resumed session is the subject
    assert resume_run(ResumeRequest(out, progress=False, tell=lambda t: None)).ok
    assert made_from_slice_files == [], "the resumed session fell back to the slice files"
    _assert_same_files(out, _rebuilt(out, tmp_path / "rebuilt"))
    with h5py.File(out / "run.h5") as f:
        assert f.attrs["slices_completed"] == 4 and list(f.attrs["slices_missing"]) == []
    _no_temporaries(out)


def test_an_earlier_slice_damaged_before_a_resume_is_flagged_as_from_the_slice_files(
    tmp_path: Path, made_from_slice_files: list[str]
) -> None:
    out = _paused_at_slice_2(tmp_path)
    damaged = out / "slices" / "slice_000001.h5"
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 100] = bytes(b ^ 0xFF for b in data[middle : middle + 100])
    damaged.write_bytes(bytes(data))
    made_from_slice_files.clear()
    report = resume_run(ResumeRequest(out, progress=False, tell=lambda t: None))
    assert made_from_slice_files[:1] == ["run.h5"], "a damaged slice must not be taken as good"
    with h5py.File(out / "run.h5") as f:
        assert list(f.attrs["slices_missing"]) == [1], report.summary
    _no_temporaries(out)
