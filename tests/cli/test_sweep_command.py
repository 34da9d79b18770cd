"""``fibsims sweep`` through the real command line: bad input is one message and exit 2 with
nothing run; a small sweep on the embedded two-worker cluster, rerun, skips every variant."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fibsims.cli.app import app
from fibsims.service.sweep import execute

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "recipes" / "quick.yaml"
runner = CliRunner()


def _sweep(*args: str):
    return runner.invoke(app, ["sweep", *args])


def _two_rasters(tmp_path: Path) -> Path:
    text = QUICK.read_text()
    raster = text[text.index("  - sims_raster:") : text.index("every:")]
    path = tmp_path / "two-rasters.yaml"
    path.write_text(
        text.replace(
            "every:", raster.replace("{current_pa", "{name: second, current_pa") + "every:"
        )
    )
    return path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nope.yaml", "--vary", "sims_raster.frames=1"], "no such file"),
        ([str(QUICK), "--vary", "sims_raster.frames"], "no '='"),
        ([str(QUICK), "--vary", "sims_raster.frames="], "an empty value"),
        ([str(QUICK), "--vary", "sims.frames=1"], "'sims' is neither a recipe field"),
        ([str(QUICK), "--vary", "volume.slice=2"], "did you mean slices?"),
        ([str(QUICK), "--vary", "sims_raster.frames=1", "--scheduler", "8786"], "--scheduler"),
        ([str(QUICK)], "either as --vary"),
        (
            [str(QUICK), "--vary", f"sims_raster.frames={','.join(map(str, range(1, 101)))}",
             "--vary", f"se_image.frames={','.join(map(str, range(1, 102)))}"],
            "10,100 variants",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_message_and_exit_2(tmp_path, args, says):
    result = _sweep(*args, "--out", str(tmp_path / "S"))
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "S").exists()


def test_ambiguous_shorthand_names_the_full_paths(tmp_path):
    result = _sweep(str(_two_rasters(tmp_path)), "--vary", "sims_raster.frames=1,2", "-o",
                    str(tmp_path / "S"))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "slice.3.sims_raster.frames or slice.4.sims_raster.frames" in result.output


def test_out_on_a_file_is_refused(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    result = _sweep(str(QUICK), "--vary", "sims_raster.frames=1", "--out", str(file))
    assert result.exit_code == 2 and "is a file" in result.output


def test_an_unreachable_scheduler_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT_S", 1.0)
    result = _sweep(str(QUICK), "--vary", "sims_raster.frames=1", "--set", "volume.slices=2",
                    "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "S"))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output


@pytest.mark.slow
def test_a_sweep_with_seeds_runs_then_its_rerun_skips_every_variant(tmp_path):
    args = [str(QUICK), "--vary", "sims_raster.frames=1,2", "--seeds", "2", "--set",
            "volume.slices=2", "--out", str(tmp_path / "S"), "--workers", "2",
            "--no-progress"]  # fmt: skip
    first = _sweep(*args)
    assert first.exit_code == 0, first.output
    assert "sweep: 4/4 variants done (0 skipped as done before, 4 run), 0 failed" in first.output
    lines = (tmp_path / "S" / "sweep.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [
        "001_frames-1_s811", "002_frames-1_s812", "003_frames-2_s811", "004_frames-2_s812",
    ]  # fmt: skip
    again = _sweep(*args)
    assert again.exit_code == 0, again.output
    assert "sweep: 4/4 variants done (4 skipped as done before, 0 run)" in again.output
