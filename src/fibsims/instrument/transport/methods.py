"""The method table: one entry per interface method, shared by the server and the client.

Each entry names the wire method (``column.mill``), its parameter model, how its result is
encoded and decoded, whether it is idempotent, and how the server invokes it on an
:class:`Instrument`. Why one table: the two ends cannot drift apart, and adding a device method
is one line here plus one proxy method.

Idempotent methods only read state: a retry simply runs them again. Every method that changes
state or takes instrument time (moves, current changes, blanking, milling, acquisitions,
sleeps, detector settings) is non-idempotent: the server caches its reply under (session, call
id) so a retried call is answered from the cache and never executed twice. The cost model's
methods only compute, so they are reads; so are the ground truth's, the sample state included
(a JSON object, :mod:`jsonvalues`).

Every number a parameter carries is finite (:mod:`scalars`); an acquisition is also checked
against the message limit before the instrument runs it (:mod:`replysize`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from fibsims.instrument.interfaces import CostModel, GroundTruth, Instrument, Vacuum
from fibsims.instrument.transport.jsonvalues import as_json_object
from fibsims.instrument.transport.protocol import AddedFieldsModel, Limits, WireModel
from fibsims.instrument.transport.replysize import check_image, check_raster
from fibsims.instrument.transport.scalars import Duration, Finite, Flag, Level, Real, WireInt
from fibsims.instrument.transport.values import (
    AcquisitionGeometryW,
    ArrayPack,
    FocusResultW,
    ImageW,
    MillPatternW,
    MillResultW,
    RasterRequestW,
    RasterW,
    ScanRequestW,
    StagePositionW,
    StageTargetW,
    TruthW,
)


class NoParams(WireModel):
    pass


class SecondsParams(WireModel):
    seconds: Duration


class TargetParams(WireModel):
    target: StageTargetW


class VoltageParams(WireModel):
    voltage_kv: Finite


class CurrentParams(WireModel):
    current_na: Finite


class ShiftParams(WireModel):
    shift_um: tuple[Finite, Finite]


class LevelParams(WireModel):
    """A detector setting (contrast or brightness), 0 to 1."""

    value: Level


class PatternParams(WireModel):
    pattern: MillPatternW


class ScanParams(WireModel):
    request: ScanRequestW


class RasterParams(WireModel):
    request: RasterRequestW


class MillCostParams(AddedFieldsModel):
    """``at`` came later: a message without it asks at the stage's present position."""

    added_fields = frozenset({"at"})
    pattern: MillPatternW
    current_na: Finite
    at: StageTargetW | None = None


class MoveCostParams(WireModel):
    start: StageTargetW
    end: StageTargetW


@dataclass(frozen=True)
class Codec:
    """Encodes a method's Python result for the wire and decodes it on the other end."""

    encode: Callable[[Any, ArrayPack], Any]
    decode: Callable[[Any, list[np.ndarray]], Any]


def _plain(kind: Any) -> Codec:
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    return Codec(
        encode=lambda value, _pack: adapter.dump_python(
            adapter.validate_python(value), mode="json"
        ),
        decode=lambda data, _arrays: adapter.validate_python(data),
    )


def _model(model: Any, with_arrays: bool = False) -> Codec:
    if with_arrays:
        return Codec(
            encode=lambda value, pack: model.of(value, pack).model_dump(mode="json"),
            decode=lambda data, arrays: model.model_validate(data).value(arrays),
        )
    return Codec(
        encode=lambda value, _pack: model.of(value).model_dump(mode="json"),
        decode=lambda data, _arrays: model.model_validate(data).value(),
    )


JSON_OBJECT = Codec(
    encode=lambda value, _pack: as_json_object(value),
    decode=lambda data, _arrays: as_json_object(data),
)
"""A JSON object carried in the header (checked on both ends: plain JSON, finite numbers)."""

NONE = _plain(None)
FLOAT = _plain(Real)
INT = _plain(WireInt)
Check = Callable[[Instrument, Any, Limits], None]


@dataclass(frozen=True)
class Method:
    """``check`` (server side, before ``invoke``) refuses a call the reply of which could not
    be sent, by raising a ``ProtocolFault``."""

    name: str
    idempotent: bool
    params: type[WireModel]
    result: Codec
    invoke: Callable[[Instrument, Any], Any]
    check: Check | None = None


def _vacuum(instrument: Instrument) -> Vacuum:
    if instrument.vacuum is None:
        raise LookupError("this instrument has no chamber vacuum gauge")
    return instrument.vacuum


def _truth(instrument: Instrument) -> GroundTruth:
    if instrument.truth is None:
        raise LookupError("this instrument has no ground truth (only simulated ones do)")
    return instrument.truth


def _costs(instrument: Instrument) -> CostModel:
    if instrument.costs is None:
        raise LookupError("this instrument has no cost model (the open result says has_costs)")
    return instrument.costs


_TABLE = (
    Method("clock.now_s", True, NoParams, FLOAT, lambda i, p: i.clock.now_s()),
    Method("clock.sleep", False, SecondsParams, NONE, lambda i, p: i.clock.sleep(p.seconds)),
    Method(
        "stage.position", True, NoParams, _model(StagePositionW), lambda i, p: i.stage.position()
    ),
    Method(
        "stage.move_to",
        False,
        TargetParams,
        _model(StagePositionW),
        lambda i, p: i.stage.move_to(p.target.value()),
    ),
    Method("column.ion_species", True, NoParams, _plain(str), lambda i, p: i.column.ion_species),
    Method("column.voltage_kv", True, NoParams, FLOAT, lambda i, p: i.column.voltage_kv()),
    Method(
        "column.set_voltage_kv",
        False,
        VoltageParams,
        NONE,
        lambda i, p: i.column.set_voltage_kv(p.voltage_kv),
    ),
    Method(
        "column.current_ladder_na",
        True,
        NoParams,
        _plain(tuple[Real, ...]),
        lambda i, p: tuple(i.column.current_ladder_na()),
    ),
    Method("column.current_na", True, NoParams, FLOAT, lambda i, p: i.column.current_na()),
    Method(
        "column.measured_current_na",
        True,
        NoParams,
        FLOAT,
        lambda i, p: i.column.measured_current_na(),
    ),
    Method(
        "column.set_current_na",
        False,
        CurrentParams,
        FLOAT,
        lambda i, p: i.column.set_current_na(p.current_na),
    ),
    Method("column.is_blanked", True, NoParams, _plain(Flag), lambda i, p: i.column.is_blanked()),
    Method("column.blank", False, NoParams, NONE, lambda i, p: i.column.blank()),
    Method("column.unblank", False, NoParams, NONE, lambda i, p: i.column.unblank()),
    Method(
        "column.beam_shift_um",
        True,
        NoParams,
        _plain(tuple[Real, Real]),
        lambda i, p: i.column.beam_shift_um(),
    ),
    Method(
        "column.set_beam_shift_um",
        False,
        ShiftParams,
        NONE,
        lambda i, p: i.column.set_beam_shift_um(p.shift_um),
    ),
    Method(
        "column.mill",
        False,
        PatternParams,
        _model(MillResultW),
        lambda i, p: i.column.mill(p.pattern.value()),
    ),
    Method(
        "column.autofocus", False, NoParams, _model(FocusResultW), lambda i, p: i.column.autofocus()
    ),
    Method(
        "se_detector.acquire_image",
        False,
        ScanParams,
        _model(ImageW, with_arrays=True),
        lambda i, p: i.se_detector.acquire_image(p.request.value()),
        lambda i, p, limits: check_image(i, p.request.value(), limits),
    ),
    Method("se_detector.contrast", True, NoParams, FLOAT, lambda i, p: i.se_detector.contrast()),
    Method(
        "se_detector.set_contrast",
        False,
        LevelParams,
        NONE,
        lambda i, p: i.se_detector.set_contrast(p.value),
    ),
    Method(
        "se_detector.brightness", True, NoParams, FLOAT, lambda i, p: i.se_detector.brightness()
    ),
    Method(
        "se_detector.set_brightness",
        False,
        LevelParams,
        NONE,
        lambda i, p: i.se_detector.set_brightness(p.value),
    ),
    Method(
        "tof.acquire_raster",
        False,
        RasterParams,
        _model(RasterW, with_arrays=True),
        lambda i, p: i.tof.acquire_raster(p.request.value()),
        lambda i, p, limits: check_raster(i, p.request.value(), limits),
    ),
    Method(
        "vacuum.chamber_pressure_pa",
        True,
        NoParams,
        FLOAT,
        lambda i, p: _vacuum(i).chamber_pressure_pa(),
    ),
    Method(
        "truth.last_image_truth",
        True,
        NoParams,
        _model(TruthW, with_arrays=True),
        lambda i, p: _truth(i).last_image_truth(),
    ),
    Method(
        "truth.last_raster_truth",
        True,
        NoParams,
        _model(TruthW, with_arrays=True),
        lambda i, p: _truth(i).last_raster_truth(),
    ),
    Method(
        "truth.last_geometry",
        True,
        NoParams,
        _model(AcquisitionGeometryW),
        lambda i, p: _truth(i).last_geometry(),
    ),
    Method(
        "truth.sample_state",
        True,
        NoParams,
        JSON_OBJECT,
        lambda i, p: _truth(i).sample_state(),
    ),
    Method(
        "costs.mill_s",
        True,
        MillCostParams,
        FLOAT,
        lambda i, p: _costs(i).mill_s(
            p.pattern.value(), p.current_na, None if p.at is None else p.at.value()
        ),
    ),
    Method(
        "costs.image_s", True, ScanParams, FLOAT, lambda i, p: _costs(i).image_s(p.request.value())
    ),
    Method(
        "costs.raster_s",
        True,
        RasterParams,
        FLOAT,
        lambda i, p: _costs(i).raster_s(p.request.value()),
    ),
    Method(
        "costs.move_s",
        True,
        MoveCostParams,
        FLOAT,
        lambda i, p: _costs(i).move_s(p.start.value(), p.end.value()),
    ),
    Method(
        "costs.current_change_s",
        True,
        NoParams,
        FLOAT,
        lambda i, p: _costs(i).current_change_s(),
    ),
    Method("costs.autofocus_s", True, NoParams, FLOAT, lambda i, p: _costs(i).autofocus_s()),
    Method(
        "costs.spectrum_samples",
        True,
        RasterParams,
        INT,
        lambda i, p: _costs(i).spectrum_samples(p.request.value()),
    ),
)

METHODS: dict[str, Method] = {method.name: method for method in _TABLE}
