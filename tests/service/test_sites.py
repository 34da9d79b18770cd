"""Several sites run one after another, each an ordinary run folder with its own resume point:
a site stopped part way resumes at its first uncommitted slice with the data of a run that
never stopped, the sites before it untouched and the sites after it run next; an aborted site
is given up; the whole run's time limit, the lock and bad positions are refused up front."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from fibsims.engine.preflight import PreflightError
from fibsims.service.folder import RunFolderError, open_run_folder
from fibsims.service.layout import RunLayout
from fibsims.service.lock import RunLock
from fibsims.service.runs import ResumeRequest, RunRequest
from fibsims.service.sites import SitesReport, resume, site_seed, start
from fibsims.service.sites_status import sites_status, status

QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"
THREE_SITES = """\
sites:
  - {name: a, stage: {x_um: 0, y_um: 0}}
  - {name: b, stage: {x_um: 40, y_um: 0}}
  - {name: c, stage: {x_um: 0, y_um: 40}, volume: {face_width_um: 20, face_height_um: 15,
      slice_thickness_nm: 25, slices: 2}}
"""


def _recipe(tmp_path: Path, sites: str = THREE_SITES, *edits: tuple[str, str]) -> Path:
    text = QUICK.read_text(encoding="utf-8").replace("slices: 6}", "slices: 4}") + sites
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "sites.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(recipe: Path, out: Path, *faults: str) -> SitesReport:
    report = start(RunRequest(recipe, out=out, seed=1, progress=False, faults=faults))
    assert isinstance(report, SitesReport)
    return report


def _resume(folder: Path, *faults: str) -> SitesReport:
    report = resume(ResumeRequest(folder, progress=False, faults=faults))
    assert isinstance(report, SitesReport)
    return report


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name not in {"owner.json", ".fibsims.lock"}
    }


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The three sites run without a stop: the reference."""
    tmp = tmp_path_factory.mktemp("whole")
    report = _run(_recipe(tmp), tmp / "run")
    assert report.ok, report.reason
    return tmp / "run"


def test_each_site_is_an_ordinary_run_at_its_own_stage_position_one_after_another(whole):
    ends = []
    for name, x_um, y_um, slices in (("a", 0, 0, 4), ("b", 40, 0, 4), ("c", 0, 40, 2)):
        site = whole / "sites" / name
        found = status(site)
        assert found["state"] == "completed" and found["slices_completed"] == slices
        run = open_run_folder(RunLayout(site))
        assert run.manifest.model_extra and run.manifest.model_extra["site"]["name"] == name
        assert run.manifest.seed == site_seed(1, name)
        start_s = run.sessions[0].start_time_s
        assert start_s >= (ends[-1] if ends else 0.0)  # its clock starts where the last ended
        ends.append(run.last_commit_t_s)
        stage = run.manifest.model_extra["site"]["stage"]
        assert stage == {"x_um": x_um, "y_um": y_um, "z_um": 0.0, "rotation_deg": 0.0}
    assert not (whole / "run.json").exists()  # the top folder is no run of its own


def test_status_of_the_run_shows_every_site(whole):
    found = sites_status(whole)
    assert found["state"] == "completed" and found["site"] is None
    assert [(s["name"], s["state"]) for s in found["sites"]] == [
        ("a", "completed"),
        ("b", "completed"),
        ("c", "completed"),
    ]
    assert found["slices_completed"] == found["slices_planned"] == 10
    assert found["next"] == ""


def test_a_site_stopped_part_way_resumes_at_its_first_uncommitted_slice(
    whole, tmp_path, same_datasets
):
    out = tmp_path / "run"
    stopped = _run(_recipe(tmp_path), out, "hardware_fault@slice=2,step=sims_raster,site=b")
    assert stopped.status == "paused" and "site 'b'" in stopped.reason
    assert [name for name, _ in stopped.sites] == ["a", "b"]
    found = sites_status(out)
    assert found["state"] == "paused" and found["site"] == "b"
    assert [s["state"] for s in found["sites"]] == ["completed", "paused", "pending"]
    assert found["sites"][1]["slices_completed"] == 2
    assert found["next"] == f"fibsims resume {out}"
    site_a = _digest(out / "sites" / "a")

    resumed = _resume(out)
    assert resumed.ok, resumed.reason
    assert [name for name, _ in resumed.sites] == ["b", "c"]  # a is not touched again
    assert _digest(out / "sites" / "a") == site_a
    b = resumed.sites[0][1]
    assert b.summary["sessions"] == 2 and b.summary["slices_completed"] == 4
    for name in ("a", "b", "c"):
        same_datasets(whole / "sites" / name / "run.h5", out / "sites" / name / "run.h5")


def test_an_aborted_site_stops_the_run_and_resume_goes_on_with_the_next(tmp_path):
    out = tmp_path / "run"
    stopped = _run(_recipe(tmp_path), out, "interlock@slice=1,site=b")
    assert stopped.status == "aborted" and not stopped.ok
    found = sites_status(out)
    assert [s["state"] for s in found["sites"]] == ["completed", "aborted", "pending"]
    assert found["state"] == "paused" and found["site"] == "c"

    resumed = _resume(out)
    assert [name for name, _ in resumed.sites] == ["c"]
    assert resumed.status == "ended" and "aborted: b" in resumed.reason
    assert sites_status(out)["state"] == "ended"
    with pytest.raises(RunFolderError, match="nothing to resume"):
        _resume(out)


def test_a_site_folder_is_not_resumed_on_its_own_but_reads_as_a_run(tmp_path):
    out = tmp_path / "run"
    _run(_recipe(tmp_path), out, "hardware_fault@slice=1,step=mill,site=a")
    with pytest.raises(
        RunFolderError, match=r"site 'a' of the multi-site run in .*`fibsims resume"
    ):
        resume(ResumeRequest(out / "sites" / "a", progress=False))
    assert status(out / "sites" / "a")["state"] == "paused"


def test_a_second_process_on_the_run_folder_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    _run(_recipe(tmp_path), out, "hardware_fault@slice=1,step=mill,site=b")
    with (
        RunLock(out, "resume"),
        pytest.raises(RunFolderError, match=rf"another fibsims process .*process {os.getpid()}"),
    ):
        _resume(out)
    with (
        RunLock(out / "sites" / "b", "resume"),
        pytest.raises(RunFolderError, match=rf"another fibsims process .*process {os.getpid()}"),
    ):
        _resume(out)
    assert _resume(out).ok


def test_the_time_limit_holds_for_the_whole_run_and_is_refused_before_anything_moves(tmp_path):
    """Each site fits 0.25 h alone (about 0.13 h each), the three together do not."""
    recipe = _recipe(tmp_path, THREE_SITES, ("max_hours: 2", "max_hours: 0.25"))
    with pytest.raises(PreflightError) as caught:
        _run(recipe, tmp_path / "run")
    message = str(caught.value)
    assert "limits.max_hours: the 3 sites need an estimated" in message
    assert "holds for the whole run" in message and "site 'c'" in message
    assert not (tmp_path / "run").exists()  # nothing left behind


def test_a_site_outside_the_stage_travel_is_refused_naming_the_site(tmp_path):
    recipe = _recipe(tmp_path, THREE_SITES.replace("x_um: 0, y_um: 0}", "x_um: 60000, y_um: 0}"))
    says = r"sites\.0\.stage\.x_um: 60000 um is beyond the stage's travel -55000 to 55000 um"
    with pytest.raises(PreflightError, match=says):
        _run(recipe, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_last_site_outside_the_travel_is_refused_before_the_first_moves(tmp_path):
    recipe = _recipe(tmp_path, THREE_SITES.replace("x_um: 0, y_um: 40}", "x_um: 0, y_um: -60000}"))
    with pytest.raises(PreflightError, match=r"sites\.2\.stage\.y_um: -60000 um is beyond"):
        _run(recipe, tmp_path / "run")
    assert not (tmp_path / "run" / "sites" / "a").exists(), "site a never started"


def test_an_edited_recipe_is_refused_on_resume_naming_the_field(tmp_path):
    out = tmp_path / "run"
    _run(_recipe(tmp_path), out, "hardware_fault@slice=1,step=mill,site=a")
    copy = out / "recipe.yaml"
    copy.write_text(copy.read_text().replace("x_um: 40", "x_um: 80"))
    with pytest.raises(RunFolderError, match=r"sites\.1\.stage\.x_um: 40\.0 -> 80\.0"):
        _resume(out)


def test_a_fault_for_a_site_the_recipe_lacks_is_refused_before_any_folder(tmp_path):
    from fibsims.service.faults import FaultSpecError

    with pytest.raises(FaultSpecError, match="no site 'z'; its sites: a, b, c"):
        _run(_recipe(tmp_path), tmp_path / "run", "interlock@slice=1,site=z")
    assert not (tmp_path / "run").exists()


def test_site_seeds_follow_the_name_not_the_order():
    assert site_seed(1, "a") == site_seed(1, "a")
    assert len({site_seed(1, "a"), site_seed(1, "b"), site_seed(2, "a")}) == 3


def test_resume_max_hours_raises_the_limit_for_the_rest_of_the_run(tmp_path):
    out = tmp_path / "run"
    _run(_recipe(tmp_path), out, "hardware_fault@slice=1,step=mill,site=b")
    resumed = resume(ResumeRequest(out, progress=False, max_hours=5))
    assert isinstance(resumed, SitesReport) and resumed.ok
    for name in ("b", "c"):
        run = open_run_folder(RunLayout(out / "sites" / name))
        assert run.sessions[-1].max_hours == 5
