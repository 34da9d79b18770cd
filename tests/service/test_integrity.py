"""Resume refuses a recipe edited since the run started, naming each change."""

from __future__ import annotations

import pytest

from fibsims.service.folder import RunFolderError
from fibsims.service.integrity import changed_fields
from fibsims.service.runs import ResumeRequest, RunRequest, resume_run, start_run


def _paused(quick_variant, tmp_path):
    recipe = quick_variant(6)
    run = start_run(
        RunRequest(
            recipe,
            out=tmp_path / "run",
            seed=1,
            progress=False,
            faults=("hardware_fault@slice=3,step=mill",),
            tell=lambda text: None,
        )
    )
    assert run.status == "paused"
    return tmp_path / "run"


def test_changed_fields_are_listed_with_old_and_new_values():
    before = {"volume": {"slices": 6, "face_width_um": 20}, "slice": [{"a": 1}, {"b": 2}]}
    after = {"volume": {"slices": 2, "face_width_um": 20}, "slice": [{"a": 1}, {"b": 3}]}
    assert changed_fields(before, after) == ["slice.1.b: 2 -> 3", "volume.slices: 6 -> 2"]
    assert changed_fields(before, before) == []


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("seed: 811,", "seed: 812,", "sample.twin.seed: 811 -> 812"),
        ("slices: 6}", "slices: 2}", "volume.slices: 6 -> 2"),
        ("resolution: [192, 144]", "resolution: [96, 64]", "slice.2.se_image.resolution.0"),
    ],
)
def test_an_edited_recipe_is_refused_naming_what_changed(quick_variant, tmp_path, old, new, named):
    folder = _paused(quick_variant, tmp_path)
    recipe = folder / "recipe.yaml"
    recipe.write_text(recipe.read_text().replace(old, new))
    journal = (folder / "journal.jsonl").read_bytes()
    with pytest.raises(RunFolderError, match="changed since the run started") as refused:
        resume_run(ResumeRequest(folder, progress=False, tell=lambda text: None))
    assert named in str(refused.value) and "recipe_text" in str(refused.value)
    assert (folder / "journal.jsonl").read_bytes() == journal, "nothing was touched"


def test_a_comment_only_edit_resumes(quick_variant, tmp_path):
    folder = _paused(quick_variant, tmp_path)
    recipe = folder / "recipe.yaml"
    recipe.write_text("# looked at on Monday\n" + recipe.read_text())
    done = resume_run(ResumeRequest(folder, progress=False, tell=lambda text: None))
    assert done.ok


def test_a_recipe_that_no_longer_loads_is_refused(quick_variant, tmp_path):
    folder = _paused(quick_variant, tmp_path)
    (folder / "recipe.yaml").write_text("recipe: [unclosed\n")
    with pytest.raises(RunFolderError, match="no longer loads"):
        resume_run(ResumeRequest(folder, progress=False, tell=lambda text: None))
