"""Conformance checks of acquisitions, declared capabilities and the optional devices.

Shapes and units are what :mod:`fibsims.instrument.types` documents: an image is (height,
width) uint16 counts, a raster's maps (n_peaks, height, width) uint32 in the order asked, and
a scan takes at least pixels x dwell x frames of instrument time.
"""

from __future__ import annotations

import json
import math

import numpy as np

from fibsims.instrument.capabilities import DEVICES
from fibsims.instrument.types import (
    AcquisitionGeometry,
    Image,
    Raster,
    RasterRequest,
    ScanRequest,
)
from fibsims.testing.conformance import NotApplicable, Probe, expect
from fibsims.testing.conformance_checks import check, close, raises, test_pattern


def scan_floor_s(request: ScanRequest) -> float:
    """The least time a scan takes: pixels x dwell x frames (flybacks only add)."""
    width, height = request.resolution_px
    return width * height * request.dwell_us * 1e-6 * request.frames


def image_request(probe: Probe) -> ScanRequest:
    caps = probe.caps
    return ScanRequest(
        probe.settings.image_resolution_px,
        probe.dwell_us(None if caps is None else caps.se_scan),
        probe.settings.frames,
        probe.field_width_um(),
    )


def raster_request(probe: Probe) -> RasterRequest:
    caps = probe.caps
    scan = ScanRequest(
        probe.settings.raster_resolution_px,
        probe.dwell_us(None if caps is None else caps.sims_scan),
        probe.settings.frames,
        probe.field_width_um(),
    )
    return RasterRequest(scan, probe.settings.polarity, probe.settings.peaks)


def acquire_image(probe: Probe, request: ScanRequest) -> tuple[Image, float]:
    """An image taken as the engine takes one (beam on, blanked after); the clock's advance."""
    instrument = probe.instrument
    probe.select_mill_current()
    instrument.column.unblank()
    t0 = instrument.clock.now_s()
    try:
        image = instrument.se_detector.acquire_image(request)
    finally:
        instrument.column.blank()
    return image, instrument.clock.now_s() - t0


def acquire_raster(probe: Probe, request: RasterRequest) -> tuple[Raster, float]:
    instrument = probe.instrument
    caps = probe.caps
    if caps is not None and caps.sims_scan is None:
        raise NotApplicable("the backend declares no ToF spectrometer (Capabilities.sims_scan)")
    probe.select_mill_current()
    instrument.column.unblank()
    t0 = instrument.clock.now_s()
    try:
        raster = instrument.tof.acquire_raster(request)
    finally:
        instrument.column.blank()
    return raster, instrument.clock.now_s() - t0


@check("image_shape_units_and_time", "an image is (height, width) uint16, honouring the request")
def image_shape(probe: Probe) -> None:
    request = image_request(probe)
    image, elapsed = acquire_image(probe, request)
    width, height = request.resolution_px
    expect(
        isinstance(image, Image),
        "SEDetector.acquire_image() returns a fibsims.instrument.Image",
        type(image).__name__,
        "return fibsims.instrument.Image",
    )
    shape = tuple(np.shape(image.pixels))
    expect(
        shape == (height, width),
        f"Image.pixels has shape (height, width) = ({height}, {width}) for resolution_px "
        f"(width, height) = ({width}, {height})",
        f"shape {shape}",
        "reshape the vendor's buffer to (rows, columns); do not transpose",
    )
    expect(
        np.asarray(image.pixels).dtype == np.uint16,
        "Image.pixels are uint16 counts (clipped, the clipped share in saturated_fraction)",
        f"dtype {np.asarray(image.pixels).dtype}",
        "clip to 65535 and cast to uint16",
    )
    expect(
        close(image.pixel_size_nm, request.pixel_size_nm, 1e-6 * request.pixel_size_nm),
        f"Image.pixel_size_nm is the field width / width in nm ({request.pixel_size_nm:g})",
        repr(image.pixel_size_nm),
        "report nm per pixel (field_width_um x 1000 / width)",
    )
    expect(
        close(image.dwell_us, request.dwell_us, 1e-9) and image.frames == request.frames,
        f"the image honours dwell_us={request.dwell_us:g} and frames={request.frames}",
        f"dwell_us={image.dwell_us!r}, frames={image.frames!r}",
        "scan with the requested dwell and frame count (refuse what the scan cannot do)",
    )
    floor = scan_floor_s(request)
    expect(
        image.duration_s >= floor * (1 - 1e-6) and elapsed >= floor * (1 - 1e-6),
        f"a scan takes at least pixels x dwell x frames = {floor:g} s, on the clock",
        f"duration_s {image.duration_s!r}, clock advanced {elapsed:g} s",
        "block until the last frame is in; report its time in s",
    )
    expect(
        0.0 <= image.saturated_fraction <= 1.0,
        "Image.saturated_fraction is a share, 0 to 1",
        repr(image.saturated_fraction),
        "report the clipped pixels' share",
    )
    current = probe.instrument.column.current_na()
    expect(
        close(image.current_na, current, 1e-6 * current),
        f"Image.current_na is the selected current in nA ({current:g})",
        repr(image.current_na),
        "report the column's selected current in nA",
    )


@check("raster_maps_peaks_and_spectrum", "a raster maps the asked peaks, (n, H, W) uint32")
def raster_shape(probe: Probe) -> None:
    request = raster_request(probe)
    raster, elapsed = acquire_raster(probe, request)
    width, height = request.scan.resolution_px
    labels = tuple(p.label for p in raster.peaks)
    expect(
        labels == request.peaks,
        f"Raster.peaks are the requested peaks, in order: {request.peaks}",
        repr(labels),
        "map exactly the requested labels, in the request's order",
    )
    shape = tuple(np.shape(raster.count_maps))
    expect(
        shape == (len(request.peaks), height, width),
        f"Raster.count_maps has shape (n_peaks, height, width) = "
        f"({len(request.peaks)}, {height}, {width})",
        f"shape {shape}",
        "stack one (rows, columns) map per peak",
    )
    expect(
        np.asarray(raster.count_maps).dtype == np.uint32,
        "Raster.count_maps are uint32 counts",
        f"dtype {np.asarray(raster.count_maps).dtype}",
        "cast the counts to uint32",
    )
    counts = np.asarray(raster.spectrum.counts)
    axis = np.asarray(raster.spectrum.mass_axis_u)
    expect(
        counts.ndim == 1 and counts.size > 0 and counts.shape == axis.shape,
        "Raster.spectrum is a 1-D sum spectrum with a mass axis of the same length",
        f"counts {counts.shape}, mass axis {axis.shape}",
        "return the sum spectrum on the TofDAQ sample axis with its mass axis",
    )
    lines = np.asarray(raster.saturated_lines)
    expect(
        lines.size in (0, height),
        "Raster.saturated_lines flags each scan line (or is empty)",
        f"{lines.size} flags for {height} lines",
        "one flag per line",
    )
    floor = scan_floor_s(request.scan)
    expect(
        raster.duration_s >= floor * (1 - 1e-6) and elapsed >= floor * (1 - 1e-6),
        f"a raster takes at least pixels x dwell x frames = {floor:g} s, on the clock",
        f"duration_s {raster.duration_s!r}, clock advanced {elapsed:g} s",
        "block until the last frame is in",
    )


@check("resolution_beyond_capabilities_is_refused", "a frame above the declared largest refuses")
def resolution_refused(probe: Probe) -> None:
    caps = probe.need_caps("scan limits")
    width, _ = caps.se_scan.max_resolution_px
    request = ScanRequest((width * 2, 8), probe.dwell_us(caps.se_scan), 1, probe.field_width_um())
    probe.select_mill_current()
    column = probe.instrument.column
    column.unblank()
    try:
        raises(
            lambda: probe.instrument.se_detector.acquire_image(request),
            f"acquire_image() at {request.resolution_px}, wider than the declared largest "
            f"frame {caps.se_scan.max_resolution_px}, must raise InstrumentError",
            "check the request against the scan generator's limits before scanning",
        )
    finally:
        column.blank()


@check("dwell_off_the_step_is_refused", "a dwell between the declared steps is refused")
def dwell_off_step_refused(probe: Probe) -> None:
    caps = probe.need_caps("dwell step")
    step = caps.se_scan.dwell_step_us
    if not step:
        raise NotApplicable("the backend declares no dwell step (any dwell in range)")
    dwell = probe.dwell_us(caps.se_scan) + step / 2
    request = ScanRequest((8, 8), dwell, 1, probe.field_width_um())
    probe.select_mill_current()
    column = probe.instrument.column
    column.unblank()
    try:
        raises(
            lambda: probe.instrument.se_detector.acquire_image(request),
            f"acquire_image() at dwell_us={dwell:g}, between the declared {step:g} us steps, "
            "must raise InstrumentError (a silent rounding scans at a dwell not asked for)",
            "refuse it naming the nearest dwells (ScanCapabilities.dwell_problem), or "
            "declare no dwell_step_us",
        )
    finally:
        column.blank()


@check("capabilities_declare_the_devices", "Capabilities.devices lists exactly the devices present")
def devices_declared(probe: Probe) -> None:
    caps = probe.need_caps("devices")
    instrument = probe.instrument
    unknown = [d for d in caps.devices if d not in DEVICES]
    expect(
        not unknown,
        f"Capabilities.devices names only {', '.join(DEVICES)}",
        repr(unknown),
        "use the Instrument field names",
    )
    for device in ("vacuum", "costs", "truth"):
        present = getattr(instrument, device) is not None
        expect(
            caps.has(device) == present,
            f"Capabilities.devices lists {device!r} exactly when Instrument.{device} is set",
            f"declared {caps.has(device)}, present {present}",
            "declare the devices the bundle carries",
        )
    expect(
        caps.has("tof") == (caps.sims_scan is not None),
        "Capabilities.devices lists 'tof' exactly when sims_scan is declared",
        f"'tof' declared {caps.has('tof')}, sims_scan {caps.sims_scan}",
        "declare the spectrometer's scan limits with it",
    )


@check("vacuum_reads_a_pressure", "the chamber gauge reads a positive pressure in Pa")
def vacuum(probe: Probe) -> None:
    gauge = probe.instrument.vacuum
    if gauge is None:
        raise NotApplicable("no vacuum gauge (Instrument.vacuum is None)")
    pressure = gauge.chamber_pressure_pa()
    expect(
        math.isfinite(pressure) and 0 < pressure < 1e6,
        "Vacuum.chamber_pressure_pa() is a positive pressure in Pa",
        repr(pressure),
        "convert the gauge's mbar or Torr to Pa (1 mbar = 100 Pa)",
    )


@check("costs_match_the_actions", "the cost model's figures match what the actions took")
def costs(probe: Probe) -> None:
    model = probe.instrument.costs
    if model is None:
        raise NotApplicable("no cost model (Instrument.costs is None)")
    share = probe.settings.cost_tolerance
    request = image_request(probe)
    predicted = model.image_s(request)
    image, _ = acquire_image(probe, request)
    expect(
        predicted >= scan_floor_s(request) * (1 - 1e-6)
        and close(predicted, image.duration_s, share * image.duration_s),
        f"CostModel.image_s() is the image's time within {share:.0%}",
        f"predicted {predicted:g} s, took {image.duration_s:g} s",
        "time the scan as the scan generator does (flybacks included)",
    )
    column = probe.instrument.column
    rung = probe.select_mill_current()
    pattern = test_pattern(probe)
    predicted = model.mill_s(pattern, rung)
    column.unblank()
    try:
        result = column.mill(pattern)
    finally:
        column.blank()
    expect(
        close(predicted, result.duration_s, share * result.duration_s),
        f"CostModel.mill_s() is the pattern's time within {share:.0%}",
        f"predicted {predicted:g} s, took {result.duration_s:g} s",
        "use the column's own pattern-time estimate",
    )


@check("truth_matches_the_last_acquisition", "ground truth is on the acquisition's own grid")
def truth(probe: Probe) -> None:
    known = probe.instrument.truth
    if known is None:
        raise NotApplicable("no ground truth (Instrument.truth is None: hardware)")
    request = image_request(probe)
    acquire_image(probe, request)
    width, height = request.resolution_px
    maps = known.last_image_truth()
    for name in ("labels", "li_fraction"):
        shape = None if name not in maps else tuple(np.shape(maps[name]))
        expect(
            shape == (height, width),
            f"GroundTruth.last_image_truth()[{name!r}] has the image's shape ({height}, {width})",
            f"{shape}",
            "compute truth on the acquisition's pixel grid",
        )
    geometry = known.last_geometry()
    expect(
        isinstance(geometry, AcquisitionGeometry),
        "GroundTruth.last_geometry() returns an AcquisitionGeometry",
        type(geometry).__name__,
        "return fibsims.instrument.AcquisitionGeometry",
    )
    try:
        json.dumps(known.sample_state())
        serialisable = True
    except (TypeError, ValueError):
        serialisable = False
    expect(
        serialisable,
        "GroundTruth.sample_state() is JSON-able (a run commits it with each slice)",
        "a value json.dumps refuses",
        "use plain dicts, lists, numbers and strings",
    )
