"""``--out`` that cannot be a new run's folder is refused (exit 2) before the instrument is
opened, and a refused run leaves nothing behind: no folder, no parents, no lock files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fibsims.engine.preflight import PreflightError
from fibsims.instrument.errors import InstrumentError
from fibsims.service.folder import RunFolderError
from fibsims.service.runs import RunRequest, start_run


def _tree(root: Path) -> dict[str, bytes | None]:
    """Everything under ``root``: files with their bytes, folders as None."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def no_instrument(monkeypatch) -> None:
    def refuse(*args: Any, **kw: Any) -> None:
        raise AssertionError("the instrument was opened for a run that had to be refused")

    monkeypatch.setattr("fibsims.service.runs.open_instrument", refuse)


def _file(root: Path) -> Path:
    path = root / "notes.txt"
    path.write_text("mine")
    return path


def _full(root: Path) -> Path:
    folder = root / "data"
    folder.mkdir()
    (folder / "thesis.docx").write_text("years of work")
    (folder / "sub").mkdir()
    return folder


OUT_CASES = {
    "a-file": (lambda root: _file(root), "is a file"),
    "under-a-file": (lambda root: _file(root) / "run", "lies under"),
    "deep-under-a-file": (lambda root: _file(root) / "a" / "b", "lies under"),
    "a-non-empty-folder": (lambda root: _full(root), "not empty"),
    "a-dev-null": (lambda root: Path("/dev/null"), "is a file"),
}


@pytest.mark.parametrize("case", sorted(OUT_CASES))
def test_a_bad_out_is_refused_before_the_instrument_opens_and_nothing_is_left(
    h, recipe4, tmp_path, no_instrument, case
):
    make, said = OUT_CASES[case]
    out = make(tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(RunFolderError, match=said):
        start_run(RunRequest(recipe4, out=out, progress=False, tell=h.quiet))
    assert _tree(tmp_path) == before


def test_a_folder_holding_a_run_is_refused_with_the_resume_hint(h, paused4, recipe4, tmp_path):
    folder = h.clone(paused4, tmp_path / "run")
    before = h.snapshot(folder, ignore=set())
    with pytest.raises(RunFolderError, match=r"already holds a run.*fibsims resume"):
        h.run_inproc(recipe4, folder)
    assert h.snapshot(folder, ignore=set()) == before


@pytest.mark.parametrize("case", ["a-file", "under-a-file", "a-non-empty-folder"])
def test_the_cli_refuses_a_bad_out_with_exit_2_before_looking_for_the_instrument(
    h, recipe4, tmp_path, case
):
    make, said = OUT_CASES[case]
    out = make(tmp_path)
    before = _tree(tmp_path)
    done = h.cli("run", recipe4, "--out", out, "--instrument", "no-such-backend", "--no-progress")
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "no-such-backend" not in done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    assert _tree(tmp_path) == before


REFUSALS = {
    "preflight": (("max_hours: 2", "max_hours: 0.01"), "sim", PreflightError),
    "unknown-instrument": ((), "no-such-backend", InstrumentError),
}
WHERE = {
    "new-folder": lambda root: root / "run",
    "new-nested-folders": lambda root: root / "a" / "b" / "run",
    "existing-empty-folder": lambda root: (root / "empty").mkdir() or root / "empty",
}


@pytest.mark.parametrize("where", sorted(WHERE))
@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_refused_run_leaves_nothing_behind(h, recipes, tmp_path, refusal, where):
    edit, instrument, error = REFUSALS[refusal]
    recipe = h.write_recipe(recipes / f"refused-{refusal}.yaml", 4, *([edit] if edit else []))
    root = tmp_path / "root"
    root.mkdir()
    out = WHERE[where](root)
    before = _tree(root)
    with pytest.raises(error):
        start_run(RunRequest(recipe, out=out, instrument=instrument, progress=False, tell=h.quiet))
    assert _tree(root) == before


def test_a_refused_run_under_the_default_runs_root_leaves_no_folder(h, recipes, tmp_path):
    recipe = h.write_recipe(recipes / "refused-root.yaml", 4, ("max_hours: 2", "max_hours: 0.01"))
    request = RunRequest(recipe, runs_root=tmp_path / "runs", progress=False, tell=h.quiet)
    with pytest.raises(PreflightError):
        start_run(request)
    assert _tree(tmp_path) == {}
