"""run.h5 is a NeXus file a generic viewer plots with real axes: the default chain leads to an
image stack, every axis has the signal's length along its dimension and units, text is text,
and per-slice arrays are compressed one slice per chunk."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from tests.conftest import QUICK

from fibsims.data.nexus import field_centers
from fibsims.data.run_reader import RunData
from fibsims.service.runs import RunRequest, start_run


@pytest.fixture(scope="module")
def run_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nexus") / "run"
    report = start_run(RunRequest(QUICK, out, progress=False, tell=lambda text: None))
    assert report.ok
    return report.layout.run_file


def _nx(obj: h5py.HLObject) -> str:
    return str(obj.attrs.get("NX_class", ""))


def test_the_default_chain_leads_to_the_se_image_stack_with_its_axes(run_file: Path):
    with h5py.File(run_file, "r") as f:
        assert _nx(f) == "NXroot"
        entry = f[f.attrs["default"]]
        assert _nx(entry) == "NXentry"
        data = entry[entry.attrs["default"]]
        assert _nx(data) == "NXdata" and data.name == "/entry/se_image"
        signal = data[data.attrs["signal"]]
        assert signal.shape == (6, 144, 192) and signal.attrs["units"] == "counts"
        for dim, name in enumerate(data.attrs["axes"]):
            axis = data[name]
            assert axis.shape == (signal.shape[dim],), f"axis {name} does not fit dimension {dim}"
            assert axis.attrs["units"] == "um"
            assert int(data.attrs[f"{name}_indices"]) == dim
            assert signal.dims[dim].label == name and signal.dims[dim][0].name == axis.name
        assert np.allclose(np.diff(data["x"][()]), data.attrs["pixel_size_nm"] / 1000)


def test_a_sims_raster_has_a_mass_axis_with_labels(run_file: Path):
    with h5py.File(run_file, "r") as f:
        raster = f["entry/sims_raster"]
        assert _nx(raster) == "NXdata" and raster.attrs["signal"] == "counts"
        assert list(raster.attrs["axes"]) == ["z", "peak_mass", "y", "x"]
        assert raster["peak_mass"].attrs["units"] == "u"
        labels = list(raster["peak_label"].asstr()[()])
        assert labels == ["6Li+", "7Li+", "55Mn+", "58Ni+", "59Co+"]
        assert raster["peak_mass"][1] == pytest.approx(7.016, abs=1e-3)


def test_the_sample_and_the_source_are_described(run_file: Path):
    with h5py.File(run_file, "r") as f:
        entry = f["entry"]
        assert _nx(entry["sample"]) == "NXsample"
        assert entry["sample/name"].asstr()[()] == "NMC811 cathode"
        assert _nx(entry["instrument/source"]) == "NXsource"
        assert entry["instrument/source/name"].asstr()[()] == "Xe plasma FIB"
        assert entry["instrument/source/voltage"][()] == 30.0
        assert entry["instrument/source/voltage"].attrs["units"] == "kV"
        assert f.attrs["ion_species"] == "Xe" and f.attrs["sample_name"] == "NMC811 cathode"


def test_text_is_stored_as_strings_not_bytes(run_file: Path):
    with h5py.File(run_file, "r") as f:
        for table, field in (("slices", "file_crc32"), ("steps", "kind")):
            dtype = f[f"entry/{table}"].dtype[field]
            assert h5py.check_string_dtype(dtype).encoding == "utf-8", f"{table}.{field}"
        peak_table = f["entry/sims_raster/peak_table"].dtype["label"]
        assert h5py.check_string_dtype(peak_table) is not None


def test_per_slice_arrays_are_compressed_one_slice_per_chunk(run_file: Path):
    with h5py.File(run_file, "r") as f:
        for name in ("se_image/data", "sims_raster/counts", "sims_raster/sum_spectrum"):
            dataset = f[f"entry/{name}"]
            assert dataset.chunks == (1, *dataset.shape[1:])
            assert dataset.id.get_create_plist().get_nfilters() >= 1, f"{name} is uncompressed"
        assert f["entry/se_image/current_na"].attrs["units"] == "nA"
        assert f["entry/se_image/duration_s"].attrs["units"] == "s"


def test_the_field_centre_follows_the_beam_shift_less_the_measured_drift():
    table = np.zeros(2, dtype=[("stage_x_um", "f8"), ("stage_y_um", "f8")])
    table["stage_x_um"] = [10.0, 10.0]
    contexts = [
        None,
        {"applied_um": [0.5, -0.2], "stage_offset_um": [0.1, 0.0], "drift_um": [0.3, -0.1]},
    ]
    centers = field_centers(table, contexts)
    assert centers[0] == pytest.approx([10.0, 0.0])
    assert centers[1] == pytest.approx([10.1, -0.1])


def test_run_data_reads_the_same_values_the_file_holds(run_file: Path):
    with RunData(run_file) as run, h5py.File(run_file, "r") as f:
        assert run.products("image") == ["se_image"]
        assert run.products("raster") == ["sims_raster"]
        assert np.array_equal(run.image()[2], f["entry/se_image/data"][2])
        assert [p.label for p in run.peaks()][:2] == ["6Li+", "7Li+"]
        field = run.field("se_image")
        assert field.x_um(0) == pytest.approx(f["entry/se_image/x"][()])
        assert run.per_slice("se_image", "current_na").shape == (6,)
        assert run.attrs["format_version"] == 3
