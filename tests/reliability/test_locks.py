"""One process per run folder: of two ``fibsims resume DIR`` (0.3 s apart, or together) or two
``fibsims run --out X`` started together, exactly one works and the other exits 2 naming the
holder's pid; no duplicate commits, every slice once; the loser leaves the winner's lock be."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from fibsims.service.lock import is_locked

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def paused90(h, recipes, tmp_path_factory) -> Path:
    """A 90-slice run paused at slice 3: a resume has 87 slices to go, several seconds, far
    longer than a refused process waits for the lock (so the race is always a race)."""
    recipe = h.write_recipe(
        recipes / "quick90.yaml", 90, h.BIG_IMAGES, ("max_hours: 2", "max_hours: 6")
    )
    out = tmp_path_factory.mktemp("paused") / "paused90"
    assert h.run_inproc(recipe, out, "hardware_fault@slice=3,step=mill").status == "paused"
    return out


def _race(h, reap, argv: list, delay_s: float) -> list[tuple[subprocess.Popen, str, str]]:
    first = reap(h.start_cli(*argv))
    time.sleep(delay_s)
    second = reap(h.start_cli(*argv))
    return [(p, *h.finish(p)) for p in (first, second)]


def _one_works_the_other_names_it(h, finished) -> None:
    codes = sorted(p.returncode for p, _, _ in finished)
    assert codes == [0, 2], [(p.returncode, err[-500:]) for p, _, err in finished]
    winner = next(p for p, _, _ in finished if p.returncode == 0)
    _, out, err = next(f for f in finished if f[0].returncode == 2)
    h.assert_clean_output(out, err)
    assert "another fibsims process is working on" in err
    named = re.search(r"process (\d+)", err)
    assert named and int(named.group(1)) == winner.pid, err


def _sessions(h, folder: Path) -> list[dict]:
    return [e for e in h.Journal(folder / "journal.jsonl").entries() if "first_slice" in e]


@pytest.mark.parametrize("delay_s", [0.3, 0.0], ids=["0.3s-apart", "together"])
def test_two_resumes_of_one_folder_one_works_the_other_exits_2_naming_it(
    h, paused90, tmp_path, reap, delay_s
):
    folder = h.clone(paused90, tmp_path / "run")
    finished = _race(h, reap, ["resume", folder, "--no-progress"], delay_s)
    _one_works_the_other_names_it(h, finished)
    assert len(_sessions(h, folder)) == 2, "the refused resume wrote to the journal"
    assert h.committed(folder) == list(range(90)), "every slice once"


def test_two_runs_into_one_new_out_one_works_the_other_exits_2_naming_it(
    h, recipe30, whole30, tmp_path, reap
):
    out = tmp_path / "run"
    argv = ["run", recipe30, "--out", out, "--seed", h.SEED, "--no-progress"]
    first, second = reap(h.start_cli(*argv)), reap(h.start_cli(*argv))
    # the loser gives up after the lock's short wait while the winner still runs
    deadline = time.monotonic() + 60
    while first.poll() is None and second.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    loser = first if first.poll() is not None else second
    winner = second if loser is first else first
    assert loser.returncode == 2, h.finish(loser)[1][-800:]
    assert winner.poll() is None, "the winner ended before the loser gave up"
    lock_kept, still_locked = (out / ".fibsims.lock").exists(), is_locked(out)
    third = h.cli("resume", out, "--no-progress", timeout=120)  # while the winner runs
    finished = [(p, *h.finish(p)) for p in (first, second)]
    # refused either way: by the lock while the winner runs, or, if the winner finished
    # within the lock's short wait, because the run is completed by then
    refused = ("another fibsims process" in third.stderr) or ("is completed" in third.stderr)
    assert third.returncode == 2 and refused, (
        f"a third process got into the live run (lock file kept: {lock_kept}, locked: "
        f"{still_locked}): exit {third.returncode}: {third.stderr[-400:]}"
    )
    assert lock_kept and still_locked
    _one_works_the_other_names_it(h, finished)
    assert len(_sessions(h, out)) == 1
    h.assert_completed_like(whole30, out)
