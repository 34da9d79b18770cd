"""``fibsims reconstruct`` and ``fibsims export``: thin wrappers over the volume services.

Exit codes as for every command: 0 done, 2 bad input (not a finished run, no volumes.h5, an
unknown format or volume), with a message naming the problem and the fix, never a traceback;
1 for anything unforeseen (a fibsims bug, said so).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from fibsims.cli.guard import guarded

if TYPE_CHECKING:
    from fibsims.service.reconstruct import ExportReport, ReconstructReport

out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")

FORMAT_NAMES = ("tiff", "ome-zarr", "amira")
"""The export formats, for the help text only: the service is imported when a command runs
(it brings zarr, tifffile and scipy, a second of start-up every other command would pay); a
test holds this list equal to the service's."""

ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
]


def _guarded(call: Callable[[], T]) -> T:
    """Run a volume service call under the data commands' exit-code contract."""
    from fibsims.service.reconstruct import RunFolderError, VolumeError

    return guarded(
        call,
        (RunFolderError, VolumeError),
        "interrupted; nothing was replaced (outputs are written whole or not at all)",
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _voxel(sizes: tuple[float, float, float]) -> str:
    return " x ".join(f"{v * 1000:.4g}" for v in sizes) + " nm (z, y, x)"


def _show_reconstruction(report: ReconstructReport) -> None:
    result = report.result
    out.print(
        f"reconstructed {result.slices} slices ({result.missing} missing) in "
        f"{report.seconds:.1f} s: {report.path} ({_megabytes(report.bytes)})",
        markup=False,
    )
    for info in report.volumes:
        shape = " x ".join(str(n) for n in info.shape)
        out.print(f"  {info.name:<18} {shape:<16} voxel {_voxel(info.voxel_size_um)}", markup=False)
    if result.dead_time:
        d = result.dead_time
        out.print(
            f"saturation: {d['extractions_per_pixel']} extractions per pixel at "
            f"{d['extraction_rate_hz']:g} Hz ({d['extraction_rate_source']}), at most "
            f"{d['max_ions_per_extraction']} ions per peak and extraction "
            f"({d['max_ions_per_extraction_source']})"
            + ("; counts divided by each peak's duty cycle" if "duty_cycles" in d else ""),
            markup=False,
        )
    if any(info.name == "se_binned" for info in report.volumes):  # SIMS registered on SE
        out.print(
            f"registration: refined {result.refinements_applied} of "
            f"{result.slices - result.missing} slices, rms {result.refinement_rms_sims_px:.2f} "
            "SIMS px (volumes.h5 /registration)",
            markup=False,
        )
    for note in result.notes:
        out.print(f"note: {note}", markup=False)


def _show_export(report: ExportReport) -> None:
    for e, seconds in zip(report.exported, report.seconds, strict=True):
        shape = " x ".join(str(n) for n in e.shape)
        out.print(
            f"exported {e.volume} ({shape}, voxel {_voxel(e.voxel_size_um)}) as {e.format} in "
            f"{seconds:.1f} s: {e.path} ({_megabytes(e.bytes)})",
            markup=False,
        )


def reconstruct(
    folder: Annotated[Path, typer.Argument(help="A finished run folder.")],
    extraction_rate_hz: Annotated[
        float | None,
        typer.Option(
            "--extraction-rate-hz",
            min=1.0,
            help="TOF extraction rate for the saturation correction (default: what the "
            "instrument reported, recorded in run.h5; without either, no corrected volumes).",
        ),
    ] = None,
    max_ions_per_extraction: Annotated[
        int | None,
        typer.Option(
            "--max-ions-per-extraction",
            min=1,
            help="The digitiser's range in ions of one peak per extraction, for the saturation "
            "correction (default: what the instrument reported, recorded in run.h5; 1 for a "
            "counting TDC; without either, no corrected volumes).",
        ),
    ] = None,
    max_shift_px: Annotated[
        float,
        typer.Option(
            "--max-shift-px",
            min=0.0,
            max=32.0,
            help="Largest correlation refinement of the SIMS-on-SE registration, SIMS pixels.",
        ),
    ] = 3.0,
    progress: ProgressOption = True,
) -> None:
    """Register SIMS maps on SE images and write the run's 3D volumes to DIR/volumes.h5."""
    from fibsims.service.reconstruct import ReconstructRequest, reconstruct_run

    request = ReconstructRequest(
        folder=folder,
        extraction_rate_hz=extraction_rate_hz,
        max_ions_per_extraction=max_ions_per_extraction,
        max_shift_sims_px=max_shift_px,
        progress=progress,
    )
    _guarded(lambda: _show_reconstruction(reconstruct_run(request)))


def export(
    folder: Annotated[Path, typer.Argument(help="A run folder with volumes.h5.")],
    format_name: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help=f"Output format: {', '.join(FORMAT_NAMES)} (Fiji, napari, Avizo).",
        ),
    ],
    volume: Annotated[
        list[str] | None,
        typer.Option(
            "--volume",
            help="Volume to export; repeat it for several, or 'all' (default: se and "
            "7Li+_corrected; others: se_binned, a peak such as 7Li+, <peak>_corrected, "
            "li_fraction).",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file for one volume, or folder for several (default "
            "DIR/exports/<volume>.<suffix>).",
        ),
    ] = None,
    progress: ProgressOption = True,
) -> None:
    """Export volumes with their physical voxel size for Fiji, napari or Avizo."""
    from fibsims.service.reconstruct import ExportRequest, export_run

    request = ExportRequest(
        folder=folder,
        format=format_name,
        volumes=tuple(volume or ()),
        out=out_path,
        progress=progress,
    )
    _guarded(lambda: _show_export(export_run(request)))


def register(app: typer.Typer) -> None:
    for command in (reconstruct, export):
        app.command()(command)
