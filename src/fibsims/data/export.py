"""Exporting one volume of ``volumes.h5`` where scientists open it: Fiji, napari, Avizo.

Every format gets the evenly resampled volume (they each know one voxel size per axis) with
its physical voxel size in um and its position in the face frame; the measured faces stay in
``volumes.h5``. A format is one module (:mod:`.tiff_export`, :mod:`.ome_zarr_export`,
:mod:`.amira_export`); this one picks it, names the output, and writes it atomically: into a
temporary sibling renamed over the target once complete, so an interrupted export never
leaves a file that looks whole.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fibsims.data.amira_export import write_amira
from fibsims.data.atomic import temporary_sibling
from fibsims.data.ome_zarr_export import write_ome_zarr
from fibsims.data.platform import fsync_directory
from fibsims.data.tiff_export import write_tiff
from fibsims.data.volumes import VolumeError, VolumeFile

Tick = Callable[[int, int], None]
Writer = Callable[[VolumeFile, str, Path, Tick | None], None]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    opens_in: str
    write: Writer
    folder: bool = False
    """The export is a folder (a Zarr store), not a file."""


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("tiff", ".tif", "Fiji / ImageJ", write_tiff),
        Format("ome-zarr", ".ome.zarr", "napari", write_ome_zarr, folder=True),
        Format("amira", ".am", "Avizo / Amira", write_amira),
    )
}
DEFAULT_VOLUMES = ("se", "7Li+_corrected")
"""The volumes exported when none is named (those the file holds; 7Li+ without a dead-time
correction): the SE structure and the lithium map on it."""
ALL = "all"
EXPORTS_FOLDER = "exports"


@dataclass(frozen=True)
class Exported:
    path: Path
    format: str
    volume: str
    shape: tuple[int, int, int]
    voxel_size_um: tuple[float, float, float]
    bytes: int


def check_format(name: str) -> Format:
    if name not in FORMATS:
        known = ", ".join(f"{f.name} ({f.opens_in})" for f in FORMATS.values())
        raise VolumeError(f"unknown export format {name!r}; use one of: {known}")
    return FORMATS[name]


def default_volume(volumes: VolumeFile) -> str:
    return default_volumes(volumes)[-1]


def default_volumes(volumes: VolumeFile) -> list[str]:
    found = [name for name in DEFAULT_VOLUMES if name in volumes.names]
    if "7Li+_corrected" not in found and "7Li+" in volumes.names:
        found.append("7Li+")
    return found or volumes.names[:1]


def chosen_volumes(volumes: VolumeFile, asked: tuple[str, ...]) -> list[str]:
    """The volumes an export writes: those asked for (``all`` for every one), in order and
    once each, else the defaults."""
    if not asked:
        return default_volumes(volumes)
    if ALL in asked:
        return list(volumes.names)
    return list(dict.fromkeys(asked))


def default_out(folder: Path, fmt: Format, volume: str) -> Path:
    return folder / EXPORTS_FOLDER / f"{volume}{fmt.suffix}"


def size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _is_zarr_store(path: Path) -> bool:
    return (path / ".zgroup").exists() or (path / "zarr.json").exists()


def _check_target(out: Path, fmt: Format) -> None:
    """Refuse to replace what this export would not have written."""
    if not out.exists():
        return
    if fmt.folder and not (out.is_dir() and _is_zarr_store(out)):
        raise VolumeError(
            f"{out} exists and is not a Zarr store; give another --out (an export replaces "
            "only an earlier export)"
        )
    if not fmt.folder and out.is_dir():
        raise VolumeError(f"{out} is a folder; give a file name for --out")


def export_volume(
    volumes_path: Path,
    format_name: str,
    volume: str | None = None,
    out: Path | None = None,
    tick: Tick | None = None,
) -> Exported:
    """Export one volume (default :data:`DEFAULT_VOLUMES`) of ``volumes_path`` in a format;
    the output defaults to ``exports/<volume><suffix>`` beside the volumes file."""
    fmt = check_format(format_name)
    with VolumeFile(volumes_path) as volumes:
        name = volume if volume is not None else default_volume(volumes)
        info = volumes.info(name)  # VolumeError naming the volumes there are
        target = out if out is not None else default_out(volumes_path.parent, fmt, name)
        _check_target(target, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(target)
        try:
            fmt.write(volumes, name, tmp, tick)
            if not fmt.folder:
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
            if target.exists() and fmt.folder:
                shutil.rmtree(target)
            os.replace(tmp, target)
            fsync_directory(target.parent)
        finally:
            if tmp.is_dir():
                shutil.rmtree(tmp)
            elif tmp.exists():
                tmp.unlink()
    return Exported(target, fmt.name, name, info.shape, info.voxel_size_um, size_bytes(target))
