"""The run report (``fibsims.data.report``): built once per module from real runs on the twin
(quick recipe, 4 slices), then checked file by file; and its pieces on synthetic data."""

from __future__ import annotations

import json
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import ndimage as ndi

from fibsims.data.reconstruction import reconstruct
from fibsims.data.report import REPORT_DIR, Report, build_report
from fibsims.data.report.analysis import Analysis, analyse
from fibsims.data.report.grid import (
    Binning,
    block_mean,
    choose_binning,
    nearest_indices,
    z_groups,
)
from fibsims.data.report.page import INDEX
from fibsims.data.report.reconstructed import read_reconstructed
from fibsims.data.report.record import read_record
from fibsims.data.report.segment import (
    Thresholds,
    classify,
    label_particles,
    phases_of_se,
    phases_of_shares,
)
from fibsims.data.report.sources import find_sources
from fibsims.data.report.stats import Overlap, Pearson
from fibsims.data.run_reader import RunData
from fibsims.data.volumes import VolumeFile
from fibsims.service.runs import RunRequest, start_run

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
FIGURES = {
    "se_orthoslices.png",
    "li_orthoslices.png",
    "li_on_se.png",
    "li_cutaway.png",
    "segmentation.png",
    "li_per_particle.png",
    "time_budget.png",
    "timeline.png",
}
TRUTH_FIGURE = "truth.png"


def make_run(
    folder: Path,
    slices: int = 4,
    truth: bool = True,
    faults: tuple[str, ...] = (),
    se_resolution: tuple[int, int] | None = None,
) -> Path:
    """A finished twin run of the quick recipe cut to ``slices`` slices, in ``folder/run``;
    its SE images at ``se_resolution`` pixels if given."""
    text = QUICK.read_text()
    assert "slices: 6}" in text and "resolution: [192, 144]" in text
    text = text.replace("slices: 6}", f"slices: {slices}}}")
    if se_resolution is not None:
        text = text.replace("resolution: [192, 144]", f"resolution: {list(se_resolution)}")
    recipe = folder / f"quick-{slices}.yaml"
    recipe.write_text(text)
    out = folder / "run"
    report = start_run(
        RunRequest(
            recipe_path=recipe,
            out=out,
            seed=1,
            progress=False,
            truth=truth,
            faults=faults,
            tell=lambda text: None,
        )
    )
    assert report.ok, report.status
    return out


@pytest.fixture(scope="module")
def twin_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    folder = make_run(tmp_path_factory.mktemp("twin"))
    stages: list[str] = []
    report = build_report(folder, lambda stage, done, total: stages.append(stage))
    assert {"reading slices", "drawing figures"} <= set(stages)
    return folder, report


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """Without --truth, and with a step retried on slice 1."""
    folder = make_run(tmp_path_factory.mktemp("plain"), truth=False, faults=("transient@slice=1",))
    return folder, build_report(folder)


def leftovers(folder: Path) -> list[Path]:
    """Hidden report folders: a build or an old report not cleaned up."""
    return [p for p in folder.iterdir() if p.name.startswith(f".{REPORT_DIR}")]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs)["src"] or "")


def image_sources(index: Path) -> list[str]:
    parser = Images()
    parser.feed(index.read_text(encoding="utf-8"))
    return parser.sources


# -- the report of a twin run with truth -------------------------------------------------------
def test_the_report_is_written_into_the_run_folder(twin_run):
    folder, report = twin_run
    assert report.index == folder / REPORT_DIR / INDEX and report.index.is_file()
    assert {s.file for s in report.figures} == FIGURES | {TRUTH_FIGURE}
    assert not leftovers(folder), "no build left over"


def test_every_figure_is_a_valid_png_of_sensible_size(twin_run):
    folder, report = twin_run
    for saved in report.figures:
        path = folder / REPORT_DIR / saved.file
        width, height = png_size(path)
        assert 400 <= width <= 4000 and 200 <= height <= 4000, (saved.file, width, height)
        assert path.stat().st_size > 10_000, f"{saved.file} is almost empty"


def test_the_page_shows_every_figure_and_nothing_else(twin_run):
    folder, report = twin_run
    sources = image_sources(report.index)
    assert sorted(sources) == sorted(s.file for s in report.figures)
    assert all((folder / REPORT_DIR / src).is_file() for src in sources)
    assert not any(":" in src or src.startswith("/") for src in sources), "links are relative"


def test_the_page_holds_the_facts_incidents_quality_recipe_and_truth(twin_run):
    _, report = twin_run
    html = report.index.read_text(encoding="utf-8")
    for text in (
        "quick",
        "completed",
        "Incidents and quality",
        "steps_retried",
        "li_map_pearson_r",
        "No slice is missing",
        "Recipe",
        "rocking_polish",
        "cleaning_cross_section",
        "particles, 3D Dice",
        "cracks found (recall)",
        "Truth",
        "sims_raster",
    ):
        assert text in html, text


def test_the_twin_truth_scores_say_the_run_mapped_lithium_and_found_particles(twin_run):
    _, report = twin_run
    scores = {s.name: s.value for s in report.scores}
    assert scores["7Li+ vs true Li fraction, every pixel (Pearson r)"] > 0.6
    assert 0.0 < scores["cracks found (recall)"] <= 1.0


def test_the_particles_are_found_apart_from_the_textured_binder(twin_run):
    """The quick recipe's 104 nm SE pixels: the binder's ~60 nm texture is bright and dark pixel
    by pixel, NMC811 grey; a 40 nm crack is below a pixel, so it only darkens pixels."""
    _, report = twin_run
    scores = {s.name: s.value for s in report.scores}
    assert scores["particles, 3D Dice"] > 0.93  # 0.965 measured
    assert scores["particles, Dice at full resolution"] > 0.93  # 0.962
    assert scores["active material (NMC811), 3D Dice"] > 0.88  # 0.914
    assert scores["cracks found (recall)"] > 0.7  # 0.873
    assert scores["cracks, precision"] > 0.2  # 0.316: sub-pixel cracks, dark grains


@pytest.fixture(scope="module")
def fine_analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    """The default recipe's SE pixel (13 nm: the binder's texture and the cracks resolved) on
    three quick slices; the analysis only, no figures."""
    folder = make_run(tmp_path_factory.mktemp("fine"), slices=3, se_resolution=(1536, 1024))
    with RunData(folder / "run.h5") as run:
        return analyse(run, find_sources(run), lambda stage, done, total: None)


def test_at_the_default_se_pixel_particles_and_cracks_are_found(fine_analysis):
    assert fine_analysis.stacks.binning == Binning(xy=8, z=1)
    scores = {s.name: s.value for s in fine_analysis.scores}
    assert scores["particles, 3D Dice"] > 0.96  # 0.987 measured
    assert scores["particles, Dice at full resolution"] > 0.97  # 0.992
    assert scores["active material (NMC811), 3D Dice"] > 0.96  # 0.987
    assert scores["cracks, precision"] > 0.9  # 0.993: the binder's nanopores are no cracks
    assert scores["cracks found (recall)"] > 0.4  # 0.486: crack edges blur above epoxy


def test_the_numbers_are_also_written_for_scripts(twin_run):
    folder, report = twin_run
    numbers = json.loads((folder / REPORT_DIR / "report.json").read_text())
    assert numbers["particles"], "the particles with their lithium"
    assert all(p["li_counts"] > 0 for p in numbers["particles"])
    assert numbers["scores"]["particles, 3D Dice"] == pytest.approx(
        {s.name: s.value for s in report.scores}["particles, 3D Dice"]
    )


def test_a_new_report_replaces_the_old_one_whole(twin_run, tmp_path):
    folder, _ = twin_run
    stale = folder / REPORT_DIR / "stale.png"
    stale.write_bytes(b"old")
    again = build_report(folder)
    assert not stale.exists(), "the old report folder is replaced, not written over"
    assert again.index.is_file()
    assert not leftovers(folder)


def test_a_missing_slice_is_a_gap_not_a_failure(twin_run, tmp_path, monkeypatch):
    folder, _ = twin_run
    copy = tmp_path / "run"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("report", ".*"))
    gone = np.array([False, True, False, False])  # as run.h5 flags a slice lost after commit
    monkeypatch.setattr(RunData, "missing", property(lambda self: gone))
    report = build_report(copy)
    assert {s.file for s in report.figures} == FIGURES | {TRUTH_FIGURE}
    assert "Slices missing (committed, data lost after): 1." in report.index.read_text()


# -- without truth, with an incident -----------------------------------------------------------
def test_without_truth_there_is_no_truth_section_but_every_other_figure(plain_run):
    _, report = plain_run
    assert {s.file for s in report.figures} == FIGURES
    assert report.scores == []
    html = report.index.read_text(encoding="utf-8")
    assert 'id="truth"' not in html


def test_an_incident_is_listed_with_its_slice(plain_run):
    folder, report = plain_run
    record = read_record(folder)
    retried = [i for i in record.incidents if i.what == "retried"]
    assert {i.slice for i in retried} == {1} and {i.kind for i in retried} == {"sims_raster"}
    assert record.summary is not None
    assert len(retried) == record.summary["incidents"]["steps_retried"]
    html = report.index.read_text(encoding="utf-8")
    assert "retried" in html and "from log.jsonl" in html


def test_a_reconstruction_is_drawn_from_its_corrected_lithium_and_a_foreign_file_is_not(
    plain_run, tmp_path
):
    folder, _ = plain_run
    reconstruct(folder / "run.h5", tmp_path / "volumes.h5")
    found = read_reconstructed(tmp_path, "7Li+")
    with VolumeFile(tmp_path / "volumes.h5") as volumes:
        expected = volumes.volume("7Li+_corrected")[()]
    assert found.volume is not None and found.note is None
    np.testing.assert_array_equal(found.volume.data, expected)
    assert found.source.startswith("volumes.h5 (7Li+_corrected")
    with h5py.File(tmp_path / "volumes.h5", "w") as f:
        f["something"] = np.zeros(3)
    foreign = read_reconstructed(tmp_path, "7Li+")
    assert foreign.volume is None and foreign.source == "run.h5"
    assert foreign.note and "not a fibsims volumes file" in foreign.note
    assert read_reconstructed(tmp_path / "absent", "7Li+").note is None, "none made: no note"


# -- the pieces --------------------------------------------------------------------------------
def test_the_default_recipe_bins_to_the_sims_pixel_and_near_cubic_voxels():
    binning = choose_binning(20_000 / 1536, 20_000 / 256, 25.0, 400)
    assert binning == Binning(xy=6, z=3)
    assert choose_binning(104.2, 312.5, 25.0, 4) == Binning(xy=1, z=1), "a short run keeps all"


def test_z_groups_cover_every_slice_once():
    groups = z_groups(400, 3)
    assert [i for g in groups for i in g] == list(range(400))
    assert len(groups) == 133


def test_nearest_indices_say_what_falls_outside():
    index, inside = nearest_indices(np.array([0.0, 1.0, 2.0]), np.array([-2.0, 0.4, 1.6, 3.0]))
    assert index.tolist() == [0, 0, 2, 2] and inside.tolist() == [False, True, True, False]


def test_pearson_in_batches_equals_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    y = x + rng.normal(size=1000)
    acc = Pearson()
    for part in range(4):
        acc.add(x[part::4], y[part::4])
    assert acc.r == pytest.approx(np.corrcoef(x, y)[0, 1])
    flat = Pearson()
    flat.add(np.ones(5), np.arange(5.0))
    assert flat.r is None, "a constant map correlates with nothing"


def test_overlap_scores():
    found, true = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)
    overlap = Overlap()
    overlap.add(found, true)
    assert (overlap.dice, overlap.precision, overlap.recall) == (0.5, 0.5, 0.5)


def synthetic_face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A particle (grey) with a 3-pixel crack, beside a wide epoxy pocket walled in by it and a
    second particle, on epoxy (dark); pixels of 13 nm."""
    yy, xx = np.mgrid[0:300, 0:400]
    image = np.full((300, 400), 8000.0)
    first = (yy - 150) ** 2 + (xx - 120) ** 2 < 100**2
    second = (yy - 150) ** 2 + (xx - 290) ** 2 < 90**2
    bridge = (np.abs(yy - 150) < 80) & (xx > 180) & (xx < 230)
    solid = first | second | bridge
    pocket = (yy - 150) ** 2 + (xx - 205) ** 2 < 25**2
    crack = first & (np.abs(xx - yy + 30) <= 1) & (xx < 150)
    image[solid] = 18000.0
    image[pocket | crack] = 8000.0
    rng = np.random.default_rng(1)
    return image + rng.normal(0, 300, image.shape), crack, pocket


def test_a_thin_crack_inside_a_particle_is_a_crack_and_a_wide_pocket_is_not():
    image, crack, pocket = synthetic_face()
    phases = phases_of_se(image, Thresholds(epoxy=13000.0, binder=25000.0, vacuum=2000.0), 0.013)
    assert phases.cracks[crack].mean() > 0.5, "most of the crack is found"
    assert not phases.cracks[pocket].any(), "epoxy walled in by particles is no crack"
    # but for its mouth at the surface, where the majority puts the boundary a pixel or two in
    assert phases.particles[crack].mean() > 0.95, "the crack lies inside the particle"


def test_particles_touching_at_a_neck_are_told_apart():
    zz, yy, xx = np.mgrid[0:40, 0:60, 0:100]
    one = (zz - 20) ** 2 + (yy - 30) ** 2 + (xx - 28) ** 2 < 20**2
    two = (zz - 20) ** 2 + (yy - 30) ** 2 + (xx - 68) ** 2 < 20**2
    particles = label_particles(one | two, (0.1, 0.1, 0.1))
    assert particles.count == 2
    assert particles.labels[20, 30, 20] != particles.labels[20, 30, 78]


def textured_face() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A grey particle with a dark grain and a 3-pixel crack, in a carbon-binder domain textured
    at ~60 nm (bright solid and dark epoxy-filled nanopores, half each); pixels of 13 nm, the
    SE beam's blur of a pixel."""
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:300, 0:400]
    texture = ndi.gaussian_filter(rng.normal(size=yy.shape), 2.0)
    image = np.where(texture > np.median(texture), 29000.0, 8000.0)
    particle = (yy - 150) ** 2 + (xx - 200) ** 2 < 110**2
    grain = particle & ((yy - 110) ** 2 + (xx - 240) ** 2 < 20**2)
    crack = particle & (np.abs(xx - yy - 60) <= 1) & (np.abs(xx - 220) < 50)
    image[particle] = 18000.0
    image[grain] = 13300.0  # partly darker than the epoxy threshold, with the noise
    image[crack] = 8000.0
    image = ndi.gaussian_filter(image, 1.0) + rng.normal(0, 300, image.shape)
    return image, particle, grain, crack


def test_a_textured_binder_is_no_particle_and_its_nanopores_no_cracks():
    image, particle, grain, crack = textured_face()
    thresholds = Thresholds(epoxy=13000.0, binder=24000.0, vacuum=2000.0, deep=10500.0)
    binder = block_mean(image, 6)[block_mean(~particle, 6) == 1]
    assert np.median(binder) == pytest.approx(18000, rel=0.1), "a block mean of it is NMC grey"
    phases = phases_of_se(image, thresholds, 0.013)
    overlap = Overlap()
    overlap.add(phases.particles, particle)
    assert overlap.dice is not None and overlap.dice > 0.97
    assert not phases.cracks[~particle].any(), "the binder's nanopores are no cracks"
    assert not phases.cracks[grain].any(), "a dark grain is no crack"
    assert phases.cracks[crack].mean() > 0.6, "the crack is"
    assert phases.cracks[~crack].sum() < 0.2 * crack.sum()


def test_the_grid_segments_the_share_of_nmc_pixels_not_the_mean_grey():
    image, particle, _, _ = textured_face()
    thresholds = Thresholds(epoxy=13000.0, binder=24000.0, vacuum=2000.0, deep=10500.0)
    share = block_mean(classify(image, thresholds), 6)[None]
    phases = phases_of_shares(share, 0.078)
    overlap = Overlap()
    overlap.add(phases.particles[0], block_mean(particle, 6) > 0.5)
    assert overlap.dice is not None and overlap.dice > 0.95
