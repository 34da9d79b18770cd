"""Exports read back by their own libraries: the ImageJ TIFF by tifffile, the OME-Zarr by
zarr (and ome-zarr-py when installed), the AmiraMesh file by our reader (header and data) and
its bounding box checked against the voxel size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from tests.data.test_volumes import quick_run

from fibsims.data.amira_export import read_amira
from fibsims.data.export import FORMATS, export_volume
from fibsims.data.ome_zarr_export import downsample, level_factors
from fibsims.data.reconstruction import reconstruct
from fibsims.data.volumes import VolumeError, VolumeFile


@pytest.fixture(scope="module")
def volumes(tmp_path_factory) -> Path:
    run = quick_run(tmp_path_factory.mktemp("export"))
    out = run / "volumes.h5"
    reconstruct(run / "run.h5", out)
    return out


def _expected(volumes: Path, name: str):
    with VolumeFile(volumes) as v:
        return v.info(name), v.volume(name)[()]


@pytest.mark.parametrize("name", ["7Li+_corrected", "se"])
def test_the_tiff_is_an_imagej_hyperstack_with_physical_voxel_sizes(volumes, tmp_path, name):
    info, data = _expected(volumes, name)
    exported = export_volume(volumes, "tiff", name, tmp_path / "v.tif")
    dz, dy, dx = info.voxel_size_um
    with tifffile.TiffFile(exported.path) as tif:
        assert tif.is_imagej
        meta = tif.imagej_metadata
        assert meta["unit"] == "um"
        assert meta["spacing"] == pytest.approx(dz)
        assert meta["slices"] == info.shape[0]
        page = tif.pages[0]
        x_num, x_den = page.tags["XResolution"].value
        y_num, y_den = page.tags["YResolution"].value
        assert x_den / x_num == pytest.approx(dx, rel=1e-6)
        assert y_den / y_num == pytest.approx(dy, rel=1e-6)
        # the origin puts pixel 0 at the first voxel's centre in the face frame
        assert -meta["xorigin"] * dx == pytest.approx(info.origin_um[2])
        assert tif.series[0].axes == "ZYX"
        array = tif.asarray()
    assert array.shape == info.shape and array.dtype == np.float32
    np.testing.assert_array_equal(array, data)
    assert name in meta["Info"]


def test_the_ome_zarr_carries_axes_units_and_scale(volumes, tmp_path):
    info, data = _expected(volumes, "7Li+_corrected")
    exported = export_volume(volumes, "ome-zarr", "7Li+_corrected", tmp_path / "v.ome.zarr")
    root = zarr.open_group(str(exported.path), mode="r")
    (multiscale,) = root.attrs["multiscales"]
    assert multiscale["version"] == "0.4"
    assert [a["name"] for a in multiscale["axes"]] == ["z", "y", "x"]
    assert {a["unit"] for a in multiscale["axes"]} == {"micrometer"}
    (level,) = multiscale["datasets"]  # 64 x 64 fits one level
    scale, translation = level["coordinateTransformations"]
    assert scale["type"] == "scale" and translation["type"] == "translation"
    np.testing.assert_allclose(scale["scale"], info.voxel_size_um)
    np.testing.assert_allclose(translation["translation"], info.origin_um)
    np.testing.assert_array_equal(root[level["path"]][...], data)
    # a second export replaces the first
    again = export_volume(volumes, "ome-zarr", "7Li+_corrected", tmp_path / "v.ome.zarr")
    assert again.path == exported.path


def test_a_large_plane_gets_a_pyramid_of_2x2_means(volumes):
    assert level_factors(1024, 1536) == [1, 2, 4]
    assert level_factors(64, 64) == [1]
    plane = np.array([[1.0, 3.0, 5.0], [np.nan, 5.0, np.nan]], dtype=np.float32)
    np.testing.assert_allclose(downsample(plane, 2), [[3.0, 5.0]])


def test_the_amira_file_has_its_bounding_box_in_um_and_the_voxels(volumes, tmp_path):
    info, data = _expected(volumes, "7Li+_corrected")
    exported = export_volume(volumes, "amira", "7Li+_corrected", tmp_path / "v.am")
    amira = read_amira(exported.path)
    planes, height, width = info.shape
    assert amira.lattice == (width, height, planes)
    z0, y0, x0 = info.origin_um
    dz, dy, dx = info.voxel_size_um
    expected_box = (x0, x0 + (width - 1) * dx, y0, y0 + (height - 1) * dy, z0, z0 + 3 * dz)
    np.testing.assert_allclose(amira.bounding_box_um, expected_box, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(amira.voxel_size_um, info.voxel_size_um, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(amira.data), data)
    assert 'Coordinates "microns"' in amira.parameters
    assert 'CoordType "uniform"' in amira.parameters
    header = exported.path.read_bytes()[:2000]
    assert header.startswith(b"# AmiraMesh BINARY-LITTLE-ENDIAN 2.1\n")
    assert exported.path.stat().st_size == header.index(b"\n@1\n", 200) + 4 + data.nbytes + 1


def test_the_default_volume_and_path(volumes):
    exported = export_volume(volumes, "amira")
    assert exported.volume == "7Li+_corrected"
    assert exported.path == volumes.parent / "exports" / "7Li+_corrected.am"
    assert exported.bytes == exported.path.stat().st_size


def test_an_unknown_format_or_volume_is_refused_naming_the_choices(volumes, tmp_path):
    with pytest.raises(VolumeError, match="use one of: tiff"):
        export_volume(volumes, "png")
    with pytest.raises(VolumeError, match="no volume '9Be\\+'; choose one of: se"):
        export_volume(volumes, "tiff", "9Be+", tmp_path / "x.tif")
    assert set(FORMATS) == {"tiff", "ome-zarr", "amira"}


def test_an_export_never_replaces_what_it_did_not_write(volumes, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(VolumeError, match="not a Zarr store"):
        export_volume(volumes, "ome-zarr", "se", folder)
    assert (folder / "keep.txt").read_text() == "mine"
    with pytest.raises(VolumeError, match="is a folder"):
        export_volume(volumes, "tiff", "se", folder)
    assert not list(tmp_path.glob("*.tmp"))


def test_the_export_metadata_says_what_the_volume_is(volumes, tmp_path):
    exported = export_volume(volumes, "ome-zarr", "li_fraction", tmp_path / "li.ome.zarr")
    attrs = json.loads((exported.path / ".zattrs").read_text())
    assert attrs["fibsims"]["volume"] == "li_fraction"
    assert "estimate" in attrs["fibsims"]["description"]
