"""The edges of a run's life: a Ctrl-C in its first instants (a clean message; no folder or a
resumable one), SIGUSR1 during a paused run's wind-down (never kills it), an abort that returns
only once run.h5 and summary.json exist, and incidents counted in summary.json and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fibsims.service.runs as runs_module
import fibsims.service.session as session_module
from fibsims.service.folder import RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.runs import RunRequest, start_run
from fibsims.service.signals import Interrupted
from fibsims_twin.column import TwinColumn


def _ctrl_c_then(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kw: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kw)

    return wrapper


START_POINTS = {
    "loading-the-recipe": (runs_module, "parse_recipe"),
    "checking-out": (runs_module, "check_out_folder"),
    "opening-the-instrument": (runs_module, "open_instrument"),
    "preflight": (runs_module, "check"),
    "writing-run-json": (runs_module, "write_json_atomic"),
    "journalling-the-start": (session_module.Journal, "append"),
    "opening-the-log": (session_module, "EventLog"),
    "making-the-state-file": (session_module, "StateFile"),
    "making-the-engine": (session_module, "RunEngine"),
}


def _resumable_or_absent(h, reference: Path, out: Path) -> None:
    if not out.exists():
        return
    try:
        open_run_folder(RunLayout(out))
    except RunFolderError as error:
        pytest.fail(f"the interrupted start left a folder that is not a run: {error}")
    assert h.resume_inproc(out).ok
    h.assert_completed_like(reference, out)


@pytest.mark.parametrize("point", list(START_POINTS))
def test_ctrl_c_at_any_point_of_starting_leaves_no_folder_or_a_resumable_one(
    h, recipe4, whole4, tmp_path, monkeypatch, point
):
    owner, name = START_POINTS[point]
    monkeypatch.setattr(owner, name, _ctrl_c_then(getattr(owner, name)))
    out = tmp_path / "run"
    try:
        report = start_run(RunRequest(recipe4, out=out, seed=h.SEED, progress=False, tell=h.quiet))
    except Interrupted as stopped:
        assert "Ctrl-C" in str(stopped)
    else:
        assert report.status == "paused", report.status
    monkeypatch.undo()
    _resumable_or_absent(h, whole4, out)


def test_ctrl_c_in_our_own_announcement_leaves_a_resumable_folder(h, recipe4, whole4, tmp_path):
    out = tmp_path / "run"

    def tell(text: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted):
        start_run(RunRequest(recipe4, out=out, seed=h.SEED, progress=False, tell=tell))
    _resumable_or_absent(h, whole4, out)


@pytest.mark.slow
def test_ctrl_c_in_the_first_instants_of_fibsims_run_is_a_message_not_a_traceback(
    h, recipe12, whole12, tmp_path, reap
):
    for trial, delay_s in enumerate((0.1, 0.3, 0.55, 0.8)):
        out = tmp_path / f"t{trial}"
        argv = ("run", recipe12, "--out", out, "--seed", h.SEED, "--no-progress")
        process = reap(h.start_cli(*argv))
        time.sleep(delay_s)
        h.send(process, signal.SIGINT)
        stdout, stderr = h.finish(process)
        h.assert_clean_output(stdout, stderr)
        # 130 / -2: see the two deterministic tests below (typer's silent exit, CPython's
        # re-raised SIGINT after a KeyboardInterrupt inside a dataclass's exec)
        assert process.returncode in {0, 1, 130, -2}, (delay_s, process.returncode, stderr)
        _resumable_or_absent(h, whole12, out)


def test_ctrl_c_while_the_run_command_builds_its_request_is_a_message_and_exit_1(
    h, recipe4, tmp_path
):
    script = textwrap.dedent(
        """
        import os, signal, sys
        import fibsims.cli.run_commands as commands
        real = commands.publish_keys
        def keys(*args, **kw):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C before the run's handlers are in
            return real(*args, **kw)
        commands.publish_keys = keys
        sys.argv = ["fibsims", *sys.argv[1:]]
        from fibsims.cli.entry import main
        main()
        """
    )
    out = tmp_path / "run"
    done = h.run_script(script, "run", recipe4, "--out", out, "--no-progress")
    h.assert_clean_output(done.stdout, done.stderr)
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "interrupted" in done.stderr, "a Ctrl-C must say what happened"
    assert not out.exists()


CONSOLE_SCRIPT_WITH_CTRL_C_DURING_IMPORTS = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    class CtrlC(importlib.abc.MetaPathFinder):
        # a Ctrl-C that lands while the command imports what fibsims/__init__ needs
        def find_spec(self, name, path=None, target=None):
            if name in ("importlib.metadata", "email"):
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, CtrlC())
    sys.argv = ["fibsims", *sys.argv[1:]]
    from fibsims.cli.entry import main  # what the installed `fibsims` script does
    sys.exit(main())
    """
)


def test_ctrl_c_while_the_fibsims_command_imports_its_package_is_a_message(h, recipe4, tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CONSOLE_SCRIPT_WITH_CTRL_C_DURING_IMPORTS,
            "run",
            str(recipe4),
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=h.CLI_TIMEOUT_S,
        cwd=h.ROOT,
    )
    h.assert_clean_output(done.stdout, done.stderr)
    assert done.returncode in {0, 1}, (done.returncode, done.stderr[-1500:])


CONSOLE_SCRIPT_WITH_CTRL_C_INSIDE_SET_NAME = textwrap.dedent(
    """
    import importlib.abc, os, signal, sys

    class Descriptor:
        def __set_name__(self, owner, name):
            os.kill(os.getpid(), signal.SIGINT)  # lands here: 3.11 wraps it in RuntimeError
            for _ in range(100):
                pass

    class CtrlC(importlib.abc.MetaPathFinder):
        # as in CI: the Ctrl-C cut into pydantic building a class while the app imported
        def find_spec(self, name, path=None, target=None):
            if name == "fibsims.cli.app":
                sys.meta_path.remove(self)

                class Model:
                    field = Descriptor()

            return None

    sys.meta_path.insert(0, CtrlC())
    sys.argv = ["fibsims", *sys.argv[1:]]
    from fibsims.cli.entry import main
    sys.exit(main())
    """
)


def test_ctrl_c_inside_a_class_being_built_during_imports_is_a_message_and_exit_1(
    h, recipe4, tmp_path
):
    out = tmp_path / "run"
    script = CONSOLE_SCRIPT_WITH_CTRL_C_INSIDE_SET_NAME
    done = subprocess.run(
        [sys.executable, "-c", script, "run", str(recipe4), "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=h.CLI_TIMEOUT_S,
        cwd=h.ROOT,
    )
    h.assert_clean_output(done.stdout, done.stderr)
    assert done.returncode == 1, (done.returncode, done.stderr[-1500:])
    assert "interrupted" in done.stderr
    assert not out.exists()


@pytest.mark.slow
def test_sigusr1_during_a_paused_runs_wind_down_never_kills_it(h, recipe30, tmp_path, reap):
    out = tmp_path / "run"
    process = reap(h.start_cli("run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert h.wait_until(h.commits_reach(out, 2), process)
    h.send(process, signal.SIGINT)
    sent = 0
    while process.poll() is None:  # a barrage through the whole wind-down, up to exit
        h.send(process, signal.SIGUSR1)
        sent += 1
        time.sleep(0.003)
    stdout, stderr = h.finish(process)
    assert sent > 0
    assert process.returncode == 1, f"exit {process.returncode} (-10: killed by SIGUSR1)"
    h.assert_clean_output(stdout, stderr)
    state = h.read_json(out / "state.json")
    assert state["state"] in {"paused", "aborted"} and state["beam_blanked"] is True


@pytest.mark.slow
def test_an_aborted_live_run_has_run_h5_and_summary_and_no_slices_when_abort_returns(
    h, recipe300, tmp_path, reap
):
    out = tmp_path / "run"
    process = reap(h.start_cli("run", recipe300, "--out", out, "--seed", h.SEED, "--no-progress"))
    assert h.wait_until(h.commits_reach(out, 2), process)
    aborted = h.cli("abort", out, "--json")
    assert aborted.returncode == 0, aborted.stderr
    files = {name: (out / name).exists() for name in ("run.h5", "summary.json", "slices")}
    assert files == {"run.h5": True, "summary.json": True, "slices": False}, files
    assert h.read_json(out / "summary.json")["status"] == "aborted"
    assert h.json.loads(aborted.stdout)["state"] == "aborted"
    h.finish(process)
    assert process.returncode == 1


def test_abort_of_a_stopped_run_leaves_run_h5_and_summary_and_no_slices(h, paused4, tmp_path):
    folder = h.clone(paused4, tmp_path / "run")
    assert h.run_status(folder)["state"] == "paused"
    done = h.cli("abort", folder, "--json")
    assert done.returncode == 0, done.stderr
    assert h.json.loads(done.stdout)["state"] == "aborted"
    assert not (folder / "slices").exists()
    assert h.read_json(folder / "summary.json")["status"] == "aborted"
    assert h.path_attrs(folder / "run.h5", "/")["status"] == "aborted"


# -- incidents ---------------------------------------------------------------------------------
INCIDENT_FAULTS = ("beam_current_drop@slice=2", "transient@slice=1")


def test_summary_and_the_final_lines_count_retries_and_holds(h, recipes, tmp_path):
    recipe = h.write_recipe(recipes / "incidents.yaml", 6)
    out = tmp_path / "run"
    argv = ["run", recipe, "--out", out, "--seed", h.SEED, "--no-progress"]
    for fault in INCIDENT_FAULTS:
        argv += ["--fault", fault]
    done = h.cli(*argv)
    assert done.returncode == 0, done.stderr
    incidents = h.read_json(out / "summary.json")["incidents"]
    assert incidents["steps_retried"] == 2 and incidents["steps_skipped"] == 0
    assert incidents["holds"] == 1 and incidents["held_s"] == pytest.approx(900.0)
    assert incidents["engine_faults"] == 0
    line = next(x for x in done.stdout.splitlines() if x.startswith("incidents:"))
    assert "2 steps retried" in line and "1 suspender holds" in line and "15.0 min" in line


def test_incidents_are_summed_over_the_sessions_of_a_run(h, recipe4, tmp_path):
    out = tmp_path / "run"
    faults = ("transient@slice=1", "hardware_fault@slice=3,step=mill")
    assert h.run_inproc(recipe4, out, *faults).status == "paused"
    report = h.resume_inproc(out, "beam_current_drop@slice=3,duration_s=300")
    assert report.ok
    incidents = h.read_json(out / "summary.json")["incidents"]
    assert incidents["steps_retried"] == 2 and incidents["holds"] == 1


class Killed(BaseException):
    """Stands for SIGKILL in-process."""


def test_incidents_of_a_session_killed_while_finalizing_still_count(h, recipe4, tmp_path):
    out = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:

        def killed(*args: Any, **kw: Any) -> None:
            raise Killed

        patch.setattr("fibsims.service.finalize.put_run_file", killed)
        with pytest.raises(Killed):
            h.run_inproc(recipe4, out, "transient@slice=1")
    assert h.resume_inproc(out).ok
    summary = h.read_json(out / "summary.json")
    assert summary.get("incidents", {}).get("steps_retried") == 2, summary


def test_incidents_of_a_session_killed_mid_run_still_count(h, recipe4, tmp_path):
    out = tmp_path / "run"
    original, calls = TwinColumn.mill, [0]

    def mill(self, pattern):
        calls[0] += 1
        if calls[0] == 9:  # slice 2's polish
            raise Killed
        return original(self, pattern)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TwinColumn, "mill", mill)
        with pytest.raises(Killed):
            h.run_inproc(recipe4, out, "transient@slice=1")
    assert h.committed(out) == [0, 1]
    assert h.resume_inproc(out).ok
    summary = h.read_json(out / "summary.json")
    assert summary["incidents"]["steps_retried"] == 2, summary["incidents"]
