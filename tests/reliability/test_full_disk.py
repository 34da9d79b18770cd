"""A full disk pauses the run with the beam blanked and a message (no traceback, no crash),
loses nothing already committed, and ``resume`` completes the run once space is freed.

Two ways: a real small tmpfs (skipped where mounting is not permitted), and ENOSPC or h5py's
RuntimeError injected into the slice writer and the run.h5 writer in-process."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fibsims.data.slice_file import damage
from fibsims.engine.store import Receipt
from fibsims.service.finalize import FinalizeFailed
from fibsims.service.status import run_status

NO_DISK_WATCH = (
    "limits: {max_hours: 2}",
    "limits: {max_hours: 2}\nsuspenders: {free_disk: {enabled: false}}",
)


@pytest.fixture(scope="module")
def unwatched(h, recipes) -> Path:
    """quick.yaml (6 slices) without the free-disk suspender, so writes meet the full disk."""
    return h.write_recipe(recipes / "unwatched.yaml", 6, NO_DISK_WATCH)


@pytest.fixture(scope="module")
def whole_unwatched(h, unwatched, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "unwatched"
    assert h.run_inproc(unwatched, out).ok
    return out


def _committed_files_intact(h, folder: Path) -> None:
    for entry in h.Journal(folder / "journal.jsonl").entries():
        if entry.get("entry") == "slice_committed":
            path = folder / "slices" / f"slice_{entry['slice']:06d}.h5"
            receipt = Receipt(entry["file_crc32"], entry["file_bytes"])
            assert damage(path, receipt) is None, f"committed slice {entry['slice']} lost"


# -- a real full disk ---------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path) -> Iterator[Callable[[str], Path]]:
    """``small_disk("1100k")`` mounts a tmpfs of that size; ``grow`` remounts it bigger."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        if subprocess.run(["umount", str(point)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)


def _grow(point: Path, size: str = "64m") -> None:
    done = subprocess.run(
        ["mount", "-o", f"remount,size={size}", str(point)], capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr


def _assert_stopped_cleanly(h, done: subprocess.CompletedProcess, out: Path) -> None:
    crashed = " (killed by SIGSEGV)" if done.returncode == -11 else ""
    assert done.returncode == 1, f"exit {done.returncode}{crashed}: {done.stderr[-2000:]}"
    h.assert_clean_output(done.stdout, done.stderr)
    assert "Exception ignored" not in done.stderr, done.stderr[-2000:]
    assert "No space left" in done.stdout + done.stderr or "space" in done.stdout + done.stderr
    state = h.read_json(out / "state.json")
    assert state["beam_blanked"] is True, state
    assert state["state"] != "completed"
    _committed_files_intact(h, out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "size",
    [
        pytest.param("1100k", id="slice-files-fill-it"),
        pytest.param("2400k", id="run-h5-does-not-fit"),
    ],
)
def test_a_real_full_disk_pauses_cleanly_and_resume_completes_once_space_is_freed(
    h, unwatched, whole_unwatched, small_disk, size
):
    disk = small_disk(size)
    out = disk / "run"
    done = h.cli("run", unwatched, "--out", out, "--seed", h.SEED, "--no-progress", timeout=120)
    _assert_stopped_cleanly(h, done, out)
    status = run_status(out)
    assert status["state"] in {"paused", "interrupted"}
    assert "killed or crashed" not in status["reason"], status["reason"]
    _grow(disk)
    resumed = h.cli("resume", out, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    h.assert_completed_like(whole_unwatched, out)


@pytest.mark.slow
def test_a_disk_filled_by_someone_else_trips_the_free_disk_suspender_and_resume_completes(
    h, recipe30, whole30, small_disk, reap
):
    disk = small_disk("90m")
    out = disk / "run"
    process = reap(h.start_cli("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert h.wait_until(h.commits_reach(out, 3), process), "the run ended too early"
    free = h.shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as filler:  # another program takes all but 12 MB
        filler.truncate(0)
        chunk = b"\xa5" * 2**20
        for _ in range(max(0, (free - 12 * 2**20) // 2**20)):
            filler.write(chunk)
    stdout, stderr = h.finish(process)
    assert process.returncode == 1, stderr[-2000:]
    h.assert_clean_output(stdout, stderr)
    state = h.read_json(out / "state.json")
    assert state["state"] == "paused" and state["beam_blanked"] is True, state
    assert "free_disk" in state["reason"]
    _committed_files_intact(h, out)
    (disk / "filler").unlink()
    resumed = h.cli("resume", out, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    h.assert_completed_like(whole30, out)


# -- injected -----------------------------------------------------------------------------------
def _enospc(*args: Any, **kw: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _h5py_flush_error(*args: Any, **kw: Any) -> None:
    raise RuntimeError(
        "Can't decrement id ref count (file write failed: errno = 28, error message = 'No "
        "space left on device')"
    )


ERRORS = {"enospc": _enospc, "h5py-runtime-error": _h5py_flush_error}


def _on_call(nth: int, error: Callable[..., None], original: Callable[..., Any]):
    calls = [0]

    def writer(*args: Any, **kw: Any) -> Any:
        calls[0] += 1
        if calls[0] >= nth:
            error()
        return original(*args, **kw)

    return writer


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_a_full_disk_in_the_slice_writer_pauses_blanked_and_resume_completes(
    h, recipe4, whole4, tmp_path, monkeypatch, error
):
    import fibsims.data.slice_file as slice_file

    out = tmp_path / "run"
    # slice files are built in memory and written with plain I/O: a full disk meets the write,
    # and an HDF5 failure can only come from building the image
    where = "write_atomic" if error == "enospc" else "slice_image"
    with monkeypatch.context() as patch:
        patch.setattr(slice_file, where, _on_call(3, ERRORS[error], getattr(slice_file, where)))
        report = h.run_inproc(recipe4, out)
    assert report.status == "paused", report.summary
    assert "space" in report.summary["reason"] and "resume" in report.summary["reason"]
    state = h.read_json(out / "state.json")
    assert state["state"] == "paused" and state["beam_blanked"] is True
    assert h.committed(out) == [0, 1]
    _committed_files_intact(h, out)
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


@pytest.mark.parametrize("error", sorted(ERRORS))
def test_a_full_disk_writing_a_paused_runs_snapshot_still_pauses_and_resume_finishes(
    h, recipe4, whole4, tmp_path, monkeypatch, error
):
    """A paused run's run.h5 is a snapshot; its data stays in slices/. Not writing it on a
    full disk must not stop the run from being recorded paused (and resumable)."""
    import fibsims.data.run_file as run_file

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        close = run_file.RunFileBuilder.close  # both ways run.h5 is made end there
        patch.setattr(run_file.RunFileBuilder, "close", _on_call(1, ERRORS[error], close))
        report = h.run_inproc(recipe4, out, "hardware_fault@slice=2,step=mill")
    assert report.status == "paused"
    assert "run.h5 was not updated" in report.summary["run_file_note"]
    state = h.read_json(out / "state.json")
    assert state["state"] == "paused" and state["beam_blanked"] is True
    assert not (out / "run.h5").exists()
    assert not [p for p in out.rglob("*.tmp")], "a torn run.h5 temporary was left"
    _committed_files_intact(h, out)
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


@pytest.mark.parametrize("error", sorted(ERRORS))
@pytest.mark.parametrize("ending", ["completed"])
def test_a_full_disk_writing_run_h5_is_never_completed_and_resume_finishes(
    h, recipe4, whole4, tmp_path, monkeypatch, error, ending
):
    import fibsims.data.run_file as run_file

    out = tmp_path / "run"
    faults = ()
    with monkeypatch.context() as patch:
        close = run_file.RunFileBuilder.close  # both ways run.h5 is made end there
        patch.setattr(run_file.RunFileBuilder, "close", _on_call(1, ERRORS[error], close))
        with pytest.raises(FinalizeFailed) as failed:
            h.run_inproc(recipe4, out, *faults)
    message = str(failed.value)
    assert "space" in message and f"fibsims resume {out}" in message
    state = h.read_json(out / "state.json")
    assert state["state"] != "completed" and state["beam_blanked"] is True
    assert not (out / "run.h5").exists()
    assert not [p for p in out.rglob("*.tmp")], "a torn run.h5 temporary was left"
    _committed_files_intact(h, out)
    status = run_status(out)
    assert status["state"] not in {"completed", "aborted"}
    assert "fibsims resume" in status["next"]
    assert h.resume_inproc(out).ok
    h.assert_completed_like(whole4, out)


def test_the_cli_reports_a_full_disk_writing_run_h5_without_a_traceback(h, recipe4, tmp_path):
    script = (
        "import errno, sys\n"
        "import fibsims.data.run_file as rf\n"
        "def full(*a, **k):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "rf.RunFileBuilder.close = full\n"  # both ways run.h5 is made end there
        "sys.argv = ['fibsims', *sys.argv[1:]]\n"
        "from fibsims.cli.entry import main\n"
        "main()\n"
    )
    out = tmp_path / "run"
    done = h.run_script(script, "run", recipe4, "--out", out, "--no-progress")
    assert done.returncode == 1, done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    assert "No space left" in done.stderr and "fibsims resume" in done.stderr
