"""End to end through the command line: ``fibsims reconstruct DIR`` then ``fibsims export DIR
--format ...`` on a quick run of the twin; every refusal exits 2 with the problem and the fix,
never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from tests.data.test_volumes import quick_run
from typer.testing import CliRunner

from fibsims.cli import volume_commands

runner = CliRunner()


def _app() -> typer.Typer:
    """The volume commands as ``fibsims`` registers them (``volume_commands.register``)."""
    app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    volume_commands.register(app)
    return app


APP = _app()


def invoke(*args: str):
    return runner.invoke(APP, [*args])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return quick_run(tmp_path_factory.mktemp("cli-volumes"))


@pytest.fixture(scope="module")
def reconstructed(run) -> Path:
    result = invoke("reconstruct", str(run), "--no-progress")
    assert result.exit_code == 0, result.output
    return run


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_reconstruct_writes_volumes_h5_and_reports_volumes_and_assumptions(reconstructed):
    result = invoke("reconstruct", str(reconstructed), "--no-progress")
    assert result.exit_code == 0, result.output
    assert (reconstructed / "volumes.h5").exists()
    assert "reconstructed 4 slices (0 missing)" in result.output
    assert "7Li+_corrected" in result.output and "4 x 48 x 64" in result.output
    assert "20 extractions per pixel at 100000 Hz (run)" in result.output
    assert not list(reconstructed.glob("*.tmp"))


def test_reconstruct_takes_the_extraction_rate_as_an_option(reconstructed, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(reconstructed, copy)
    result = invoke("reconstruct", str(copy), "--no-progress", "--extraction-rate-hz", "50000")
    assert result.exit_code == 0, result.output
    assert "10 extractions per pixel at 50000 Hz (option)" in result.output


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("tiff", ".tif"), ("ome-zarr", ".ome.zarr"), ("amira", ".am")]
)
def test_export_writes_the_se_and_lithium_volumes_in_each_format(reconstructed, fmt, suffix):
    result = invoke("export", str(reconstructed), "--format", fmt, "--no-progress")
    assert result.exit_code == 0, result.output
    for name in ("se", "7Li+_corrected"):
        target = reconstructed / "exports" / f"{name}{suffix}"
        assert target.exists()
        assert str(target) in result.output
    assert f"as {fmt}" in result.output
    assert "voxel 25 x 312.5 x 312.5 nm" in result.output


def test_export_of_several_volumes_or_all_goes_to_one_folder(reconstructed, tmp_path):
    result = invoke(
        "export", str(reconstructed), "--format", "tiff", "--no-progress",
        "--volume", "6Li+_corrected", "--volume", "li_fraction", "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "6Li+_corrected.tif",
        "li_fraction.tif",
    ]
    result = invoke(
        "export", str(reconstructed), "--format", "amira", "--volume", "all", "--no-progress",
        "--out", str(tmp_path / "b"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "b").glob("*.am"))) == 13


def test_export_checks_every_volume_before_writing_any(reconstructed, tmp_path):
    result = invoke(
        "export", str(reconstructed), "--format", "tiff", "--volume", "se", "--volume", "Li",
        "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert result.exit_code == 2 and "choose one of" in result.output
    assert not (tmp_path / "c").exists()


def test_export_takes_a_volume_and_an_output_path(reconstructed, tmp_path):
    out = tmp_path / "se.tif"
    result = invoke(
        "export", str(reconstructed), "--format", "tiff", "--volume", "se", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and "exported se (4 x 144 x 192" in result.output


def test_reconstruct_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = invoke("reconstruct", str(tmp_path), "--no-progress")
    assert result.exit_code == 2
    assert "is not a fibsims run folder" in result.output
    assert "fibsims run --out" in result.output
    _no_traceback(result)


def test_reconstruct_refuses_a_run_that_did_not_finish(run, tmp_path):
    """A run whose process died mid-way (the journal has no session_ended): resume it first."""
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("volumes.h5", "exports"))
    journal = copy / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    assert b"session_ended" in lines[-1]
    journal.write_bytes(b"".join(lines[:-1]))
    result = invoke("reconstruct", str(copy), "--no-progress")
    assert result.exit_code == 2, result.output
    assert "did not finish" in result.output and f"fibsims resume {copy}" in result.output
    assert not (copy / "volumes.h5").exists()
    _no_traceback(result)


def test_export_without_volumes_h5_says_to_reconstruct_first(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("volumes.h5", "exports"))
    result = invoke("export", str(copy), "--format", "tiff")
    assert result.exit_code == 2
    assert "has no volumes.h5" in result.output
    assert f"fibsims reconstruct {copy}" in result.output
    _no_traceback(result)


def test_export_refuses_an_unknown_format_naming_the_formats(reconstructed):
    result = invoke("export", str(reconstructed), "--format", "png")
    assert result.exit_code == 2
    assert "unknown export format 'png'" in result.output
    assert "tiff (Fiji / ImageJ), ome-zarr (napari), amira (Avizo / Amira)" in result.output
    _no_traceback(result)


def test_export_refuses_an_unknown_volume_naming_the_volumes(reconstructed):
    result = invoke("export", str(reconstructed), "--format", "tiff", "--volume", "Li")
    assert result.exit_code == 2
    assert "no volume 'Li'; choose one of: se, se_binned" in result.output
    _no_traceback(result)


def test_export_needs_a_format(reconstructed):
    result = invoke("export", str(reconstructed))
    assert result.exit_code == 2
    assert "--format" in result.output


def test_export_help_names_every_format_the_service_writes() -> None:
    from fibsims.cli.volume_commands import FORMAT_NAMES
    from fibsims.service.reconstruct import EXPORT_FORMATS

    assert FORMAT_NAMES == EXPORT_FORMATS
