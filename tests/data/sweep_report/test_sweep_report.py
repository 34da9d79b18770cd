"""The sweep's comparison report (``fibsims.data.sweep_report``) on a sweep folder of real quick
twin runs (three done, one failed, one pending, one not yet in the table), and its pieces on
small synthetic inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.data.sweep_report.sweep_folders import (
    DONE,
    FAILED,
    NOT_STARTED,
    OBJECTIVE,
    PENDING,
    make_sweep,
    scores,
    write_table,
)
from tests.data.test_report import image_sources

from fibsims.data.report import REPORT_DIR
from fibsims.data.report.page import png_size
from fibsims.data.sweep_report import build_sweep_report
from fibsims.data.sweep_report.labels import header, unit, values
from fibsims.data.sweep_report.table import Row


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep") / "sweep")


@pytest.fixture(scope="module")
def reported(sweep: Path) -> Path:
    stages: list[str] = []
    build_sweep_report(sweep, progress=lambda stage, done, total: stages.append(stage))
    assert {"reading the sweep", "drawing figures"} <= set(stages)
    return sweep / REPORT_DIR


def copied(sweep: Path, tmp_path: Path) -> Path:
    target = tmp_path / "sweep"
    shutil.copytree(sweep, target, ignore=shutil.ignore_patterns(REPORT_DIR))
    return target


def numbers(folder: Path) -> dict:
    return json.loads((folder / REPORT_DIR / "report.json").read_text())


def page(folder: Path) -> str:
    return (folder / REPORT_DIR / "index.html").read_text(encoding="utf-8")


def ranked(sweep: Path) -> list[str]:
    found = scores(sweep)
    return sorted(found, key=lambda v: -found[v])


# -- the report of a sweep ---------------------------------------------------------------------
def test_the_report_is_a_page_with_its_figures_beside_it(reported):
    sources = image_sources(reported / "index.html")
    assert sorted(sources) == ["best_maps.png", "pareto.png"]
    for name in sources:
        width, height = png_size(reported / name)
        assert 400 <= width <= 4000 and 200 <= height <= 3000, (name, width, height)
        assert (reported / name).stat().st_size > 10_000
    assert not list(reported.parent.glob(".report*")), "no build left over"


def test_the_variants_are_ordered_by_the_objective_then_failed_then_pending(sweep, reported):
    order = numbers(sweep)["order"]
    assert order == [*ranked(sweep), FAILED[0], PENDING[0], NOT_STARTED[0]]
    html = page(sweep)
    positions = [html.index(f"<td>{variant}</td>") for variant in order]
    assert positions == sorted(positions), "the page's table is in the same order"


def test_the_header_says_what_was_swept(sweep, reported):
    html = page(sweep)
    for text in ("quick.yaml", "1, 2, 4", "seeds", "3 done, 1 failed, 2 pending", OBJECTIVE):
        assert text in html, text
    hours = numbers(sweep)["instrument_hours_total"]
    assert 0.3 < hours < 0.4, "three quick runs of 3 slices, 0.11 h each"
    assert f"{hours:.3g} h over every variant" in html


def test_the_failed_variant_shows_its_error_and_units_are_in_the_headers(sweep, reported):
    html = page(sweep)
    assert FAILED[3] in html
    for text in ("instrument time (h)", "data (MB)", "simulated (s)", "(count)", "(r)"):
        assert text in html, text
    assert "li_map_pearson_r_within_particles" in html, "the empty metric is named in a note"


def test_the_best_maps_are_the_best_done_variants(sweep, reported):
    found = numbers(sweep)
    assert found["best"] == found["maps"] == ranked(sweep)[:3]
    assert set(found["front"]) <= {v for v, _, _ in DONE}
    html = page(sweep)
    assert "own 1st to 99.5th percentile" in html, "the caption says how the maps are scaled"
    assert "true Li atomic fraction" in html


def test_best_n_chooses_how_many_maps(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    one = build_sweep_report(folder, best=1)
    assert numbers(folder)["maps"] == ranked(sweep)[:1]
    width_one = png_size(folder / REPORT_DIR / "best_maps.png")[0]
    build_sweep_report(folder, best=2)
    assert numbers(folder)["maps"] == ranked(sweep)[:2]
    assert png_size(folder / REPORT_DIR / "best_maps.png")[0] > width_one
    assert len(one.figures) == 2


def test_direction_min_ranks_the_lowest_first(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    manifest = json.loads((folder / "sweep.json").read_text())
    manifest["direction"] = "min"
    (folder / "sweep.json").write_text(json.dumps(manifest))
    build_sweep_report(folder)
    assert numbers(folder)["order"][:3] == ranked(sweep)[::-1]
    assert "lower is better" in page(folder)


# -- what is missing is said, not failed on ----------------------------------------------------
def test_a_missing_preview_or_variant_folder_is_a_note(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    best, second, third = ranked(sweep)
    (folder / "variants" / best / "preview" / "li7.npy").unlink()
    (folder / "variants" / second / "preview" / "li7_truth.npy").unlink()
    shutil.rmtree(folder / "variants" / third)
    report = build_sweep_report(folder)
    assert numbers(folder)["maps"] == [second]
    notes = " ".join(report.notes)
    assert f"{best}/preview/li7.npy is missing" in notes
    assert f"variants/{third} is missing" in notes
    assert f"{best}/preview/li7.npy is missing" in page(folder)


def test_a_preview_that_is_not_a_map_is_a_note(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    best = ranked(sweep)[0]
    (folder / "variants" / best / "preview" / "li7.npy").write_bytes(b"not numpy")
    np.save(folder / "variants" / ranked(sweep)[1] / "preview" / "li7.npy", np.zeros(5))
    report = build_sweep_report(folder)
    assert numbers(folder)["maps"] == ranked(sweep)[2:3]
    assert "cannot be read" in " ".join(report.notes)
    assert "not a 2-D map" in " ".join(report.notes)


def _rows(folder: Path, keep: set[str] | None = None, clear: tuple[str, ...] = ()) -> None:
    import csv

    with open(folder / "sweep.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if keep is not None and row["status"] == "done" and row["variant"] not in keep:
            row["status"], row["error"] = "failed", "killed"
        for column in clear:
            row[column] = ""
    write_table(folder, rows)


def test_no_done_variant_is_a_report_that_says_so(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    _rows(folder, keep=set())
    report = build_sweep_report(folder)
    assert report.figures == []
    assert "No variant is done" in page(folder)
    assert numbers(folder)["counts"] == {"done": 0, "failed": 4, "pending": 2}


def test_every_metric_empty_keeps_sweep_order_and_says_so(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    _rows(folder, clear=("quality.li_map_pearson_r", "quality.drift_residual_px_rms"))
    report = build_sweep_report(folder, best=2)
    assert [s.file for s in report.figures] == ["best_maps.png"], "no Pareto plot"
    assert numbers(folder)["maps"] == [DONE[0][0], DONE[1][0]], "the first done, in sweep order"
    assert "every cell is empty" in page(folder)
    assert "none has a score" in page(folder)


def test_an_objective_that_is_no_column_is_a_note(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    manifest = json.loads((folder / "sweep.json").read_text())
    manifest["objective"] = "quality.nonexistent"
    (folder / "sweep.json").write_text(json.dumps(manifest))
    report = build_sweep_report(folder)
    assert "is not a column of sweep.csv" in page(folder)
    assert [s.file for s in report.figures] == ["best_maps.png"]


def test_the_objective_may_leave_out_quality(sweep, tmp_path):
    folder = copied(sweep, tmp_path)
    manifest = json.loads((folder / "sweep.json").read_text())
    manifest["objective"] = OBJECTIVE.removeprefix("quality.")
    (folder / "sweep.json").write_text(json.dumps(manifest))
    build_sweep_report(folder)
    assert numbers(folder)["objective"] == OBJECTIVE


# -- the pieces --------------------------------------------------------------------------------
def _row(name: str) -> Row:
    return Row(0, name, "", "done", "", "1", {}, {}, {})


def test_units_come_from_the_names():
    assert unit("slice.3.sims_raster.current_pa") == "pA"
    assert unit("sims_raster.dwell_us") == "us"
    assert unit("sims_raster.frames") == "count"
    assert unit("quality.drift_residual_px_rms") == "px"
    assert unit("quality.li_map_pearson_r_within_particles") == "r"
    assert unit("quality.images_scored") == ""
    assert header("volume.slice_thickness_nm") == "volume.slice_thickness_nm (nm)"
    row = _row("x")
    row.values = {"sims_raster.current_pa": "800", "sims_raster.frames": "5"}
    assert values(row) == "current_pa=800, frames=5"
