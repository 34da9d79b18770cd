"""A scripted in-memory instrument and loopback servers for the transport tests.

The transport is tested against this fake (not the twin) so that each test controls what the
instrument does: how long a mill takes on the wall clock, which call fails with which error,
and which array types come back. The twin runs over the wire in test_wire_run.py.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import zmq

from fibsims.instrument import (
    AcquisitionGeometry,
    Clock,
    CostModel,
    FocusResult,
    GroundTruth,
    Image,
    Instrument,
    InstrumentOptions,
    IonColumn,
    MillPattern,
    MillResult,
    Peak,
    Raster,
    RasterRequest,
    ScanRequest,
    SEDetector,
    Spectrum,
    Stage,
    StagePosition,
    TofSpectrometer,
    Vacuum,
)
from fibsims.instrument.transport import FaultPlan, InstrumentServer, LinkSettings
from fibsims.instrument.transport.derived import DEVICES
from fibsims.instrument.transport.frames import decode, encode
from fibsims.instrument.transport.protocol import Limits, Reply, Request
from fibsims.testing import fakes
from fibsims.testing.fakes import fake_class, recorded

FAST = LinkSettings(
    timeout_s=20.0, heartbeat_s=0.05, silence_s=0.15, dead_after_s=1.0, retries=12, backoff_s=0.005
)


@dataclass
class Script(fakes.Script):
    """What the fake does: ``mill_wall_s`` of real time per mill, queued exceptions per call
    (the served devices are :func:`~fibsims.testing.fakes.recorded`)."""

    mill_wall_s: float = 0.0


class FakeClock(Clock):
    def __init__(self, start_s: float) -> None:
        self.t = start_s

    def now_s(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeStage(Stage):
    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.at = clock, StagePosition()

    def position(self) -> StagePosition:
        return self.at

    def move_to(self, target: StagePosition) -> StagePosition:
        self.clock.t += 5.0
        self.at = target
        return target


class FakeColumn(fake_class(IonColumn)):  # type: ignore[misc]
    """Voltage and beam shift are settings (:func:`~fibsims.testing.fakes.fake_class`)."""

    def __init__(self, script: Script, clock: FakeClock) -> None:
        super().__init__({"voltage_kv": 30.0, "beam_shift_um": (0.0, 0.0)})
        self.script, self.clock = script, clock
        self.current, self.blanked, self.face = 0.1, True, 0.0
        self.patterns: list[MillPattern] = []

    @property
    def ion_species(self) -> str:
        return "Xe"

    def current_ladder_na(self) -> tuple[float, ...]:
        return (0.1, 0.8, 4.0, 15.0)

    def current_na(self) -> float:
        return self.current

    def measured_current_na(self) -> float:
        return self.current * 0.98

    def set_current_na(self, current_na: float) -> float:
        self.current = min((0.1, 0.8, 4.0, 15.0), key=lambda r: abs(r - current_na))
        self.clock.t += 10.0
        return self.current

    def is_blanked(self) -> bool:
        return self.blanked

    def blank(self) -> None:
        self.blanked = True

    def unblank(self) -> None:
        self.blanked = False

    def mill(self, pattern: MillPattern) -> MillResult:
        if self.script.mill_wall_s:
            time.sleep(self.script.mill_wall_s)
        self.script.log.append(("column.mill done", threading.current_thread().name))
        self.clock.t += 30.0
        self.patterns.append(pattern)
        self.face = max(self.face, pattern.front_z_um)
        return MillResult(
            duration_s=30.0, dose_nc=1.0 / 3.0, face_z_um=self.face, current_na=self.current
        )

    def autofocus(self) -> FocusResult:
        return FocusResult(
            defocus_before_um=0.1234567890123, defocus_after_um=-1e-300, duration_s=12.0
        )


class FakeDetector(fake_class(SEDetector)):  # type: ignore[misc]
    """Contrast and brightness are settings."""

    def __init__(self) -> None:
        super().__init__({"contrast": 0.5, "brightness": 0.5})

    def acquire_image(self, request: ScanRequest) -> Image:
        w, h = request.resolution_px
        pixels = (np.arange(w * h, dtype=np.uint32) * 7919 % 65536).astype(np.uint16)
        return Image(
            pixels=pixels.reshape(h, w),
            pixel_size_nm=request.pixel_size_nm,
            dwell_us=request.dwell_us,
            frames=request.frames,
            current_na=0.1,
            duration_s=1.5,
            saturated_fraction=0.01,
        )


class FakeTof(TofSpectrometer):
    def acquire_raster(self, request: RasterRequest) -> Raster:
        w, h = request.scan.resolution_px
        n = len(request.peaks)
        maps = np.arange(n * h * w, dtype=np.uint32).reshape(n, h, w) * 65537
        spectrum = Spectrum(
            counts=np.linspace(0, 1, 1000) ** 2,
            mass_axis_u=np.linspace(1, 200, 1000, dtype=np.float32),
            calibration_p1=2.5e3,
            calibration_p2=-12.0,
            sample_interval_s=1e-9,
        )
        peaks = tuple(Peak(label=p, mass_u=7.016, lower_u=6.9, upper_u=7.1) for p in request.peaks)
        return Raster(
            peaks=peaks,
            count_maps=maps,
            spectrum=spectrum,
            pixel_size_nm=20.0,
            dwell_us=request.scan.dwell_us,
            frames=request.scan.frames,
            current_na=0.8,
            duration_s=60.0,
            saturated_lines=np.array([0, 1] * (h // 2), dtype=np.uint8),
        )


TRUTH_ARRAYS: dict[str, np.ndarray] = {
    "bool": np.array([[True, False], [False, True]]),
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "uint16": np.array([0, 65535], dtype=np.uint16),
    "int32": np.array([[-(2**31)]], dtype=np.int32),
    "uint64": np.array([2**64 - 1], dtype=np.uint64),
    "int64": np.arange(24, dtype=np.int64).reshape(2, 3, 4),
    "float16": np.array([0.5, -0.25], dtype=np.float16),
    "float32": np.array([np.pi, np.nan, np.inf], dtype=np.float32),
    "float64": np.array([1e-308, -0.0, 1 / 3]),
    "complex64": np.array([1 + 2j], dtype=np.complex64),
    "complex128": np.array([np.e - 1j]),
    "big_endian": np.array([1.5, 2.5], dtype=">f8"),
    "strided": np.arange(20, dtype=np.int16).reshape(4, 5)[:, ::2],
    "empty": np.zeros((0, 3), dtype=np.float32),
    "scalar": np.array(42.0),
}


@pytest.fixture
def truth_arrays() -> dict[str, np.ndarray]:
    return TRUTH_ARRAYS


GEOMETRY = AcquisitionGeometry(
    drift_um=(0.1 + 0.2, -1e-300, 12.000000000000002),
    field_center_um=(-3.0 / 7, 2.5),
    face_z_um=0.075,
    defocus_um=-0.0,
)

SAMPLE_STATE: dict[str, Any] = {
    "face_z_um": 0.1 + 0.2,
    "features": [
        {"kind": "box", "center_um": [1.5, -2.0], "rotation_deg": 30.0, "depth_um": 1 / 3},
        {"kind": "line", "center_um": [-1e-300, 4e300], "rotation_deg": -0.0, "depth_um": 2},
    ],
    "slices": 3,
    "label": "NMC811 échantillon – 样品",
    "polished": True,
    "note": None,
    "empty": {},
    "nested": [[[]]],
}


class FakeTruth(GroundTruth):
    """Truth of a simulated sample; its state starts from the one it was opened on (resume)."""

    def __init__(self, state: Any = None) -> None:
        self.geometry = GEOMETRY
        self.state: Any = SAMPLE_STATE if state is None else state

    def last_image_truth(self) -> dict[str, np.ndarray]:
        return TRUTH_ARRAYS

    def last_raster_truth(self) -> dict[str, np.ndarray]:
        return {"labels": np.ones((3, 3), dtype=np.uint8)}

    def last_geometry(self) -> AcquisitionGeometry:
        return self.geometry

    def sample_state(self) -> dict[str, Any]:
        return self.state


class FakeVacuum(Vacuum):
    def __init__(self) -> None:
        self.pressure_pa = 2.5e-4

    def chamber_pressure_pa(self) -> float:
        return self.pressure_pa


class FakeCosts(CostModel):
    """Figures with awkward binary fractions, so a lossy float round trip would show."""

    def mill_s(
        self, pattern: MillPattern, current_na: float, at: StagePosition | None = None
    ) -> float:
        volume_s = pattern.volume_um3 / (current_na * 0.1234567)
        tilt = 0.0 if at is None else at.tilt_deg / 11
        return volume_s + pattern.front_z_um / 3 + pattern.rotation_deg / 7 + tilt

    def image_s(self, request: ScanRequest) -> float:
        w, h = request.resolution_px
        return w * h * request.dwell_us * 1e-6 * request.frames + h * 1e-4 / 3

    def raster_s(self, request: RasterRequest) -> float:
        return self.image_s(request.scan) * (1 + len(request.peaks) / 7)

    def move_s(self, start: StagePosition, end: StagePosition) -> float:
        return abs(end.x_um - start.x_um) / 300.0 + abs(end.rotation_deg - start.rotation_deg) / 9

    def current_change_s(self) -> float:
        return 10.0 / 3

    def autofocus_s(self) -> float:
        return 12.000000000000002

    def spectrum_samples(self, request: RasterRequest) -> int:
        return 1000


@dataclass
class FakeFactory:
    """Builds fake instruments sharing one :class:`Script`; keeps the ones it built (their
    devices unwrapped) and serves them with every call of ``devices`` recorded."""

    script: Script = field(default_factory=Script)
    opened: list[tuple[InstrumentOptions, Instrument]] = field(default_factory=list)
    devices: Mapping[str, type] = field(default_factory=lambda: DEVICES)

    def build(self, options: InstrumentOptions) -> Instrument:
        clock = FakeClock(options.start_time_s)
        return Instrument(
            name="fake",
            clock=clock,
            stage=FakeStage(clock),
            column=FakeColumn(self.script, clock),
            se_detector=FakeDetector(),
            tof=FakeTof(),
            truth=FakeTruth(options.sample_state),
            vacuum=FakeVacuum(),
            costs=FakeCosts(),
        )

    def __call__(self, options: InstrumentOptions) -> Instrument:
        instrument = self.build(options)
        self.opened.append((options, instrument))
        wrapped = {
            name: recorded(kind, getattr(instrument, name), self.script, name)
            for name, kind in self.devices.items()
        }
        return dataclasses.replace(instrument, **wrapped)


@pytest.fixture
def fast() -> LinkSettings:
    """Link timing for tests: heartbeats every 50 ms, a silent server is gone after 1 s."""
    return FAST


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def serve() -> Iterator[Callable[..., InstrumentServer]]:
    """Start servers on ephemeral loopback ports; all are stopped at the end of the test."""
    started: list[InstrumentServer] = []

    def start(
        factory: Callable[[InstrumentOptions], Instrument],
        *,
        faults: FaultPlan | None = None,
        **kwargs: Any,
    ) -> InstrumentServer:
        server = InstrumentServer(factory, "tcp://127.0.0.1:0", faults=faults, **kwargs)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


class Raw:
    """A bare DEALER socket speaking the protocol by hand (no heartbeats, no retries)."""

    def __init__(self, context: zmq.Context[Any], endpoint: str) -> None:
        self.sock = context.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(endpoint)

    def send(self, *frames: bytes) -> None:
        self.sock.send_multipart(list(frames))

    def request(
        self, method: str, request_id: str, session: str | None = None, **params: Any
    ) -> None:
        self.send(
            *encode(Request(v=1, id=request_id, method=method, session=session, params=params))
        )

    def reply(self, timeout_s: float = 2.0) -> Reply:
        assert self.sock.poll(int(timeout_s * 1000)), "no reply"
        reply, _ = decode(self.sock.recv_multipart(), Reply, Limits())
        return reply

    def call(
        self, method: str, request_id: str, session: str | None = None, **params: Any
    ) -> Reply:
        self.request(method, request_id, session, **params)
        return self.reply()

    def open(self, request_id: str = "open-1", **params: Any) -> str:
        reply = self.call("session.open", request_id, **{"seed": 1, **params})
        assert reply.ok, reply.error
        return str(reply.result["session"])

    def close(self) -> None:
        """Vanish as a crashed client does: no session.close, just gone."""
        self.sock.close(linger=0)


@pytest.fixture
def raw_connect() -> Iterator[Callable[[str], Raw]]:
    """Bare protocol clients; all are closed at the end of the test."""
    context: zmq.Context[Any] = zmq.Context()
    yield lambda endpoint: Raw(context, endpoint)
    context.destroy(linger=0)
