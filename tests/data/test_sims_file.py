"""sims.h5 holds the run's SIMS data in the TofDAQ fibTOF layout: every group, dataset and
attribute readers of the instrument's files look for, the run's counts and images unchanged, and
RosettaSciIO (and HyperSpy) open it. Runs are made by the real service on the twin."""

from __future__ import annotations

import configparser
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import h5py
import hyperspy.api
import numpy as np
import pytest
import rsciio.tofwerk as tofwerk

import fibsims.data.sims_file as sims_file
import fibsims.service.finalize as finalize_module
from fibsims.data.live_products import LiveProducts
from fibsims.data.run_reader import RunData
from fibsims.data.sims_file import (
    SimsFileError,
    refresh_sims_file,
    write_sims_file,
    write_sims_next_to,
)
from fibsims.data.tofdaq_format import ion_mode
from fibsims.service.runs import RunRequest, start_run

QUICK = Path(__file__).resolve().parents[2] / "recipes" / "quick.yaml"
LI6_U, LI7_U = 6.01457, 7.01545  # 6Li+ and 7Li+: the isotopes' masses less an electron's


def _run(folder: Path, slices: int) -> Path:
    text = QUICK.read_text()
    assert "slices: 6}" in text
    recipe = folder.parent / f"{folder.name}.yaml"
    recipe.write_text(text.replace("slices: 6}", f"slices: {slices}}}"))
    report = start_run(
        RunRequest(recipe_path=recipe, out=folder, seed=1, progress=False, tell=lambda t: None)
    )
    assert report.status == "completed"
    return folder / "run.h5"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run.h5, sims.h5) of a 3-slice run of quick.yaml."""
    run_file = _run(tmp_path_factory.mktemp("sims") / "run", 3)
    return run_file, write_sims_next_to(run_file)


@pytest.fixture(scope="module")
def with_missing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 3-slice run whose slice 1 was found damaged when the session was finalized (from the
    slice files: a run.h5 written as the run went holds every slice it was given)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(finalize_module, "check_slice_files", lambda run: {1: "damaged (test)"})
        patch.setattr(LiveProducts, "finish", lambda self, *a, **k: "made from the slice files")
        run_file = _run(tmp_path_factory.mktemp("sims-missing") / "run", 3)
    return run_file, write_sims_next_to(run_file)


@pytest.fixture
def sims(made: tuple[Path, Path]) -> Iterator[h5py.File]:
    with h5py.File(made[1], "r") as f:
        yield f


@pytest.fixture
def run(made: tuple[Path, Path]) -> Iterator[RunData]:
    with RunData(made[0]) as data:
        yield data


def _shapes(f: h5py.File) -> dict[str, tuple[tuple[int, ...], str]]:
    found: dict[str, tuple[tuple[int, ...], str]] = {}
    f.visititems(
        lambda name, obj: (
            found.__setitem__(name, (obj.shape, obj.dtype.str))
            if isinstance(obj, h5py.Dataset)
            else None
        )
    )
    return found


def test_every_group_dataset_and_attribute_has_its_shape_and_type(sims: h5py.File):
    n, lines, columns, peaks, samples = 3, 48, 64, 5, int(sims.attrs["NbrSamples"])
    shapes = _shapes(sims)
    expected = {
        "FIBImages/Image0000/Data": ((144, 192), "<f8"),
        "FIBImages/Image0002/Data": ((144, 192), "<f8"),
        "FibParams/FibPressure/TwData": ((n, 1), "<f8"),
        "FullSpectra/MassAxis": ((samples,), "<f4"),
        "FullSpectra/SumSpectrum": ((samples,), "<f8"),
        "FullSpectra/SaturationWarning": ((n, lines), "|u1"),
        "PeakData/PeakData": ((n, lines, columns, peaks), "<f4"),
        "TimingData/BufTimes": ((n, lines), "<f8"),
    }
    for name, shape_type in expected.items():
        assert shapes[name] == shape_type, name
    assert shapes["TPS2/TwData"][0][0] == n and shapes["TPS2/TwData"][1] == "<f8"
    for info in ("TPS2/TwInfo", "FibParams/FibPressure/TwInfo"):  # what the tables hold
        assert shapes[info][0] == (1,) and shapes[info][1].startswith("|S"), info
    assert len(sims["FIBImages"]) == n
    log = sims["AcquisitionLog/Log"]
    assert [log.dtype[k].str for k in ("timestamp", "timestring", "logtext")] == [
        "<u8",
        "|S26",
        "|S256",
    ]
    table = sims["PeakData/PeakTable"].dtype
    assert table.names == ("label", "mass", "lower integration limit", "upper integration limit")
    assert [table[k].str for k in table.names] == ["|S64", "<f4", "<f4", "<f4"]

    root = sims.attrs
    assert root["TofDAQ Version"].dtype == np.float32
    for key, value in {
        "NbrWrites": n,
        "NbrSegments": lines,
        "NbrBufs": lines,
        "NbrPeaks": peaks,
        "NbrWaveforms": 1,
        "NbrBlocks": 1,
    }.items():
        assert root[key].dtype == np.int32 and int(root[key]) == value, key
    assert root["NbrSamples"].dtype == np.int32
    assert root["IonMode"] == b"positive"
    for key in ("FiblysGUIVersion", "DAQ Hardware", "Computer ID", "Configuration File Contents"):
        assert isinstance(root[key], bytes), key
    datetime.strptime(root["HDF5 File Creation Time"].decode(), "%d.%m.%Y %H:%M:%S")
    assert set(sims["FIBParams"].attrs) >= {
        "FibHardware",
        "FibInterfaceVersion",
        "Voltage",
        "Current",
        "ViewField",
        "ScanSpeed",
    }
    spectra = sims["FullSpectra"].attrs
    assert int(spectra["MassCalibMode"]) == 0
    for key in ("MassCalibration p1", "MassCalibration p2", "SampleInterval", "Single Ion Signal"):
        assert np.isfinite(spectra[key]), key
    assert int(sims["TimingData"].attrs["TofPeriod"]) >= samples


def test_configuration_is_ini_with_adc_ranges_and_the_run(sims: h5py.File):
    ini = configparser.ConfigParser()
    ini.read_string(sims.attrs["Configuration File Contents"].decode())
    assert float(ini["TOFParameter"]["Ch1FullScale"]) == 0.5  # volts, an ADC range
    assert ini["fibsims"]["recipe_name"] == "quick"
    assert ini["fibsims"]["seed"] == "1" and ini["fibsims"]["instrument"] == "sim"


def test_data_are_the_runs_counts_images_and_spectra(sims: h5py.File, run: RunData):
    counts = run.counts()[()]
    assert np.array_equal(sims["PeakData/PeakData"][()], counts.transpose(0, 2, 3, 1))
    for i in range(run.slices):
        assert np.array_equal(sims[f"FIBImages/Image{i:04d}/Data"][()], run.image()[i])
    mass_axis, spectra = run.spectrum()
    assert np.array_equal(sims["FullSpectra/MassAxis"][()], mass_axis.astype(np.float32))
    assert np.allclose(sims["FullSpectra/SumSpectrum"][()], spectra[()].sum(axis=0))
    table = sims["PeakData/PeakTable"][()]
    assert [row["label"].decode() for row in table] == [p.label for p in run.peaks()]
    assert np.allclose(table["mass"], [p.mass_u for p in run.peaks()])


def test_fib_params_give_the_sims_pixel_size_and_the_beam(sims: h5py.File, run: RunData):
    fib = sims["FIBParams"].attrs
    nbr_x = sims["PeakData/PeakData"].shape[2]
    pixel_um = run.field("sims_raster").pixel_size_nm / 1000
    assert fib["ViewField"] * 1000 / nbr_x == pytest.approx(pixel_um)
    assert fib["Voltage"] == pytest.approx(30_000.0)
    assert fib["Current"] == pytest.approx(
        np.median(run.per_slice("sims_raster", "current_na")) * 1e-9
    )
    assert np.isnan(sims["FibParams/FibPressure/TwData"][()]).all()  # the run records none


def test_buffer_times_spread_each_raster_over_its_lines(sims: h5py.File, run: RunData):
    times = sims["TimingData/BufTimes"][()]
    steps = run.steps[()]
    duration_s = run.per_slice("sims_raster", "duration_s")
    kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in steps["kind"]]
    rows = steps[np.array([k == "sims_raster" for k in kinds])]
    for i in range(run.slices):
        row = rows[rows["slice"] == i][-1]
        line_s = duration_s[i] / times.shape[1]
        assert np.allclose(np.diff(times[i]), line_s)
        assert times[i, -1] + line_s == pytest.approx(row["finished_s"])
        assert times[i, 0] >= row["started_s"]
    assert np.all(np.diff(times[:, 0]) > 0)


def test_acquisition_log_has_an_entry_per_write(sims: h5py.File):
    log = sims["AcquisitionLog/Log"][()]
    assert len(log) == 3
    stamps = [datetime.strptime(t.decode(), "%Y-%m-%dT%H:%M:%S%z") for t in log["timestring"]]
    assert stamps == sorted(stamps) and all(s.utcoffset() is not None for s in stamps)
    assert np.all(np.diff(log["timestamp"].astype(np.int64)) > 0)
    assert all(text.startswith(f"write {i}:".encode()) for i, text in enumerate(log["logtext"]))


def test_rosettasciio_reads_it_as_slices_by_y_by_x_by_mass(made: tuple[Path, Path]):
    run_file, path = made
    with RunData(run_file) as run:
        counts = run.counts()[()]
        pixel_um = run.field("sims_raster").pixel_size_nm / 1000
        labels = [p.label for p in run.peaks()]
    assert "additional_peak_data" in tofwerk.available_signals(path)
    (signal,) = tofwerk.file_reader(path, signal="additional_peak_data", show_progressbar=False)
    assert signal["data"].shape == (3, 48, 64, 5)
    axes = {axis["name"]: axis for axis in signal["axes"]}
    assert [axis["name"] for axis in signal["axes"]] == ["depth", "y", "x", "m/z"]
    assert axes["depth"]["size"] == 3 and axes["y"]["size"] == 48 and axes["x"]["size"] == 64
    assert axes["x"]["scale"] == pytest.approx(pixel_um)
    assert axes["y"]["scale"] == pytest.approx(pixel_um)
    mass_axis = np.asarray(axes["m/z"]["axis"])  # sorted by mass, as the labels are here
    for label, mass_u in (("6Li+", LI6_U), ("7Li+", LI7_U)):
        k = labels.index(label)
        assert mass_axis[k] == pytest.approx(mass_u, abs=1e-3)
        assert np.array_equal(signal["data"][..., k], counts[:, k])
    table = signal["metadata"]["Signal"]["peak_table"]
    assert [p["label"] for p in table][:2] == ["6Li+", "7Li+"]
    meta = signal["metadata"]["Acquisition_instrument"]["FIB_SIMS"]
    assert meta["ToF"]["ion_mode"] == "positive" and meta["n_depth_slices"] == 3
    (images,) = tofwerk.file_reader(path, signal="fib_images", show_progressbar=False)
    assert images["data"].shape == (3, 144, 192)


def test_hyperspy_loads_it(made: tuple[Path, Path]):
    signal = hyperspy.api.load(made[1], file_format="Tofwerk", signal="additional_peak_data")
    assert signal.data.shape == (3, 48, 64, 5)
    assert [a.name for a in signal.axes_manager.navigation_axes] == ["x", "y", "depth"]
    assert signal.axes_manager.signal_axes[0].axis[:2] == pytest.approx([LI6_U, LI7_U], abs=1e-3)


def test_a_missing_slice_is_zeros_and_logged(with_missing: tuple[Path, Path]):
    run_file, path = with_missing
    with RunData(run_file) as run:
        assert list(run.missing) == [False, True, False]
        counts = run.counts()[()]
    with h5py.File(path, "r") as f:
        data = f["PeakData/PeakData"][()]
        assert not data[1].any() and data[0].any() and data[2].any()
        assert np.array_equal(data[2], counts[2].transpose(1, 2, 0))
        assert not f["FIBImages/Image0001/Data"][()].any()
        assert not f["FullSpectra/SaturationWarning"][1].any()
        assert np.isnan(f["TimingData/BufTimes"][1]).all()
        log = [text.decode() for text in f["AcquisitionLog/Log"]["logtext"]]
    assert len(log) == 3 + 1
    assert sum("slice 1 is missing" in line for line in log) == 1


def test_a_single_slice_run(tmp_path: Path):
    run_file = _run(tmp_path / "run", 1)
    with RunData(run_file) as run:
        path = write_sims_file(run, tmp_path / "one.h5", config={"site": {"lab": "B12"}})
    with h5py.File(path, "r") as f:
        assert f["PeakData/PeakData"].shape == (1, 48, 64, 5)
        assert int(f.attrs["NbrWrites"]) == 1 and len(f["FIBImages"]) == 1
        assert b"[site]\nlab=B12" in f.attrs["Configuration File Contents"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(made: tuple[Path, Path], tmp_path):
    target = tmp_path / "sims.h5"
    target.write_bytes(b"previous")
    calls = 0

    def stop() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")

    with RunData(made[0]) as run, pytest.raises(SimsFileError, match="No space left"):
        write_sims_file(run, target, between=stop)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sims.h5"]
    target.unlink()
    with RunData(made[0]) as run, pytest.raises(KeyboardInterrupt):
        write_sims_file(run, target, between=lambda: (_ for _ in ()).throw(KeyboardInterrupt))
    assert list(tmp_path.iterdir()) == []


def test_unknown_raster_and_full_disk_are_refused_before_writing(
    made: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    with RunData(made[0]) as run:
        with pytest.raises(SimsFileError, match="no SIMS raster named 'tof'"):
            write_sims_file(run, tmp_path / "sims.h5", raster="tof")
        monkeypatch.setattr(sims_file.shutil, "disk_usage", lambda p: type("U", (), {"free": 0}))
        with pytest.raises(SimsFileError, match="GiB are free in"):
            write_sims_file(run, tmp_path / "sims.h5")
    assert list(tmp_path.iterdir()) == []


def test_a_disk_filling_while_writing_stops_it_cleanly(
    made: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    checks: list[Path] = []

    def usage(folder: Path) -> object:  # room before writing, none once slices arrive
        checks.append(Path(folder))
        return type("U", (), {"free": 2**40 if len(checks) == 1 else 0})

    monkeypatch.setattr(sims_file.shutil, "disk_usage", usage)
    with RunData(made[0]) as run, pytest.raises(SimsFileError, match=r"^sims\.h5 needs about"):
        write_sims_file(run, tmp_path / "sims.h5")
    assert len(checks) == 2 and set(checks) == {tmp_path}
    assert list(tmp_path.iterdir()) == []


def test_finalizing_refreshes_it_only_when_run_h5_is_newer(made: tuple[Path, Path], tmp_path):
    run_file = tmp_path / "run.h5"
    shutil.copyfile(made[0], run_file)
    assert refresh_sims_file(run_file) == ""
    made_ns = (tmp_path / "sims.h5").stat().st_mtime_ns
    assert (
        refresh_sims_file(run_file) == "" and (tmp_path / "sims.h5").stat().st_mtime_ns == made_ns
    )
    os.utime(run_file, ns=(made_ns + 10**9, made_ns + 10**9))  # a later session rewrote run.h5
    assert refresh_sims_file(run_file) == ""
    assert (tmp_path / "sims.h5").stat().st_mtime_ns > made_ns
    run_file.write_bytes(b"not HDF5")
    os.utime(run_file, ns=(made_ns + 10**10, made_ns + 10**10))
    assert refresh_sims_file(run_file).startswith("sims.h5 was not written")


def test_ion_mode_comes_from_the_peak_labels_sign():
    assert ion_mode(["6Li+", "Xe2+"]) == b"positive"
    assert ion_mode(["O-", "F-"]) == b"negative"
    with pytest.raises(SimsFileError, match="polarity"):
        ion_mode(["O-", "Li+"])


@pytest.mark.parametrize("deflate", ["isal", "zlib"])
def test_a_chunk_encoded_by_either_deflate_reads_back_through_hdf5s_own_filters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deflate: str
) -> None:
    """ISA-L writes the same deflate format as zlib: an HDF5 reader inflates both alike."""
    import zlib

    from fibsims.data import tofdaq_format

    if deflate == "zlib":
        monkeypatch.setattr(tofdaq_format, "deflate", zlib)
    else:
        assert tofdaq_format.deflate is not zlib, "ISA-L is a dependency: it must be in use"
    image = np.random.default_rng(5).poisson(300.0, (96, 128)).astype(np.float64)
    with h5py.File(tmp_path / "one.h5", "w") as f:
        ds = f.create_dataset(
            "Data",
            shape=image.shape,
            dtype="<f8",
            chunks=image.shape,
            **tofdaq_format.CHUNK_FILTERS,
        )
        ds.id.write_direct_chunk((0, 0), tofdaq_format.encode_chunk(image))
    with h5py.File(tmp_path / "one.h5", "r") as f:
        assert np.array_equal(f["Data"][()], image)
