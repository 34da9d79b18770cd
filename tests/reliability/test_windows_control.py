"""A run on a faked Windows (issue 14): no SIGUSR1, no folder fsync, and ``os.kill`` forbidden
in both the run and the ``fibsims abort`` / ``fibsims pause`` process. Abort and pause still
reach the live run through their request files: it ends aborted with its data durable, or
paused with its beam blanked; a pause request never outlives the session it was for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

AS_ON_WINDOWS = textwrap.dedent(
    """
    import os, signal, sys
    del signal.SIGUSR1  # absent on Windows
    def no_kill(pid, sig):  # on Windows: a CTRL_C_EVENT to the console group, or a hard kill
        print(f"os.kill({pid}, {sig}) called", file=sys.stderr, flush=True)
        os._exit(99)
    os.kill = no_kill
    import fibsims.data.platform as platform
    platform.WINDOWS = True
    sys.argv = ["fibsims", *sys.argv[1:]]
    from fibsims.cli.entry import main
    sys.exit(main())
    """
)


def _start(h, *args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", AS_ON_WINDOWS, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=h.ROOT,
    )


@pytest.mark.slow
def test_abort_reaches_a_live_run_without_sigusr1_or_os_kill_as_on_windows(
    h, recipe300, tmp_path, reap
):
    out: Path = tmp_path / "run"
    process = reap(_start(h, "run", recipe300, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert h.wait_until(h.commits_reach(out, 2), process), h.finish(process)[1][-1500:]
    aborted = h.run_script(AS_ON_WINDOWS, "abort", out, "--json")
    assert aborted.returncode == 0, aborted.stderr
    assert h.json.loads(aborted.stdout)["state"] == "aborted"
    stdout, stderr = h.finish(process)
    assert process.returncode == 1, (process.returncode, stderr[-1500:])
    assert "os.kill(" not in stderr + aborted.stderr
    h.assert_clean_output(stdout, stderr, aborted.stdout, aborted.stderr)
    files = {name: (out / name).exists() for name in ("run.h5", "summary.json", "slices")}
    assert files == {"run.h5": True, "summary.json": True, "slices": False}, files
    assert h.read_json(out / "summary.json")["status"] == "aborted"
    state = h.read_json(out / "state.json")
    assert state["state"] == "aborted" and state["beam_blanked"] is True


@pytest.mark.slow
def test_pause_reaches_a_live_run_without_signals_or_os_kill_as_on_windows(
    h, recipe300, tmp_path, reap
):
    out: Path = tmp_path / "run"
    process = reap(_start(h, "run", recipe300, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert h.wait_until(h.commits_reach(out, 2), process), h.finish(process)[1][-1500:]
    paused = h.run_script(AS_ON_WINDOWS, "pause", out, "--json")
    assert paused.returncode == 0, paused.stderr
    assert h.json.loads(paused.stdout)["state"] == "paused"
    stdout, stderr = h.finish(process)
    assert process.returncode == 1, (process.returncode, stderr[-1500:])
    assert "os.kill(" not in stderr + paused.stderr
    h.assert_clean_output(stdout, stderr, paused.stdout, paused.stderr)
    state = h.read_json(out / "state.json")
    assert state["state"] == "paused" and state["beam_blanked"] is True
    assert "fibsims pause" in state["reason"], state
    assert not (out / "pause.request").exists(), "a later resume must not pause at once"


def test_pause_of_a_run_no_process_works_on_is_refused(h, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "run")
    done = h.cli("pause", folder)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "nothing to pause" in done.stderr
    assert not (folder / "pause.request").exists()


def test_a_stale_pause_request_is_dropped_when_the_run_resumes(h, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "run")
    (folder / "pause.request").write_text("{}\n", encoding="utf-8")
    report = h.resume_inproc(folder)
    assert report.status == "completed", report.summary
    assert any("pause request" in note for note in report.notes), report.notes
    assert not (folder / "pause.request").exists()
