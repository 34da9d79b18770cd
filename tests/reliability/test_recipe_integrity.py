"""A paused run's recipe.yaml edited between sessions: resume refuses (exit 2) naming each
changed field with old -> new and changes nothing; an edit of comments or layout resumes."""

from __future__ import annotations

import json

import pytest

from fibsims.service.folder import RunFolderError

EDITS = {
    "phantom-seed": (("seed: 811", "seed: 812"), "sample.twin.seed: 811 -> 812"),
    "fewer-slices": (("slices: 4}", "slices: 2}"), "volume.slices: 4 -> 2"),
    "more-slices": (("slices: 4}", "slices: 9}"), "volume.slices: 4 -> 9"),
    "resolution": (
        ("resolution: [192, 144]", "resolution: [96, 128]"),
        "slice.2.se_image.resolution.0: 192 -> 96",
    ),
    "sims-peaks": (("59Co+]", "27Al+]"), "slice.3.sims_raster.peaks.4: '59Co+' -> '27Al+'"),
}


def _edit(folder, *pairs: tuple[str, str]) -> None:
    path = folder / "recipe.yaml"
    text = path.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_recipe_is_refused_naming_the_field_and_nothing_changes(
    h, paused4, tmp_path, edit
):
    folder = h.clone(paused4, tmp_path / edit)
    pair, named = EDITS[edit]
    _edit(folder, pair)
    before = h.snapshot(folder)
    with pytest.raises(RunFolderError) as refused:
        h.resume_inproc(folder)
    assert named in str(refused.value)
    assert "recipe.yaml" in str(refused.value)
    assert h.snapshot(folder) == before


def test_the_cli_names_every_changed_field_exits_2_and_restoring_the_recipe_resumes(
    h, whole4, paused4, tmp_path
):
    folder = h.clone(paused4, tmp_path / "three")
    original = (folder / "recipe.yaml").read_text()
    _edit(folder, *(EDITS[k][0] for k in ("phantom-seed", "fewer-slices", "resolution")))
    before = h.snapshot(folder)
    done = h.cli("resume", folder, "--no-progress")
    assert done.returncode == 2, done.stderr
    h.assert_clean_output(done.stdout, done.stderr)
    for key in ("phantom-seed", "fewer-slices", "resolution"):
        assert EDITS[key][1] in done.stderr
    assert h.snapshot(folder) == before
    assert json.loads((folder / "run.json").read_text())["recipe_text"] == original
    (folder / "recipe.yaml").write_text(original)  # what the message says to do
    assert h.resume_inproc(folder).ok
    h.assert_completed_like(whole4, folder)


@pytest.mark.parametrize(
    "pairs",
    [
        pytest.param((("# A few slices", "# Edited: a few slices"),), id="comment"),
        pytest.param((("recipe: quick\n", "recipe: quick   # same name\n\n"),), id="trailing"),
        pytest.param(
            (
                (
                    "instrument: {ion_species: Xe, voltage_kv: 30}",
                    "instrument:\n  ion_species: Xe\n  voltage_kv: 30",
                ),
            ),
            id="flow-to-block",
        ),
    ],
)
def test_a_comment_or_layout_edit_resumes_to_the_uninterrupted_run(
    h, whole4, paused4, tmp_path, pairs
):
    folder = h.clone(paused4, tmp_path / "layout")
    _edit(folder, *pairs)
    assert h.resume_inproc(folder).ok
    assert h.committed(folder) == [0, 1, 2, 3]
    h.assert_same_run(whole4 / "run.h5", folder / "run.h5")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"volume: [unclosed\n", id="not-yaml"),
        pytest.param(b"\xff\xfe\x00binary", id="not-utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_recipe_that_no_longer_loads_is_refused_naming_the_file(h, paused4, tmp_path, content):
    folder = h.clone(paused4, tmp_path / "broken")
    (folder / "recipe.yaml").write_bytes(content)
    before = h.snapshot(folder)
    with pytest.raises(RunFolderError, match=r"recipe\.yaml"):
        h.resume_inproc(folder)
    assert h.snapshot(folder) == before
