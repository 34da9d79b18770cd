"""Conformance checks of what the instrument's settings read back, and what it refuses.

A current is a rung or a refusal (never a silent snap), the voltage and the SE levels read back
as set, a stage move lands where it says within the declared tolerance and travel, and the beam
shift reads back in um in the face frame, refused beyond the declared range.
"""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise

from fibsims.instrument.types import StagePosition
from fibsims.testing.conformance import NotApplicable, Probe, expect
from fibsims.testing.conformance_checks import check, close, raises

# --- currents ------------------------------------------------------------------------------


@check("current_ladder_ascending_and_declared", "the ladder is ascending, positive and declared")
def ladder(probe: Probe) -> None:
    found = tuple(float(r) for r in probe.instrument.column.current_ladder_na())
    expect(
        bool(found) and all(r > 0 and math.isfinite(r) for r in found),
        "IonColumn.current_ladder_na() lists positive currents in nA",
        repr(found),
        "report the apertures' currents in nA",
    )
    expect(
        all(a < b for a, b in pairwise(found)),
        "IonColumn.current_ladder_na() is strictly ascending",
        repr(found),
        "sort the rungs (and drop duplicates)",
    )
    caps = probe.caps
    if caps is not None:
        declared = tuple(sorted(caps.current_ladder_na))
        expect(
            declared == found,
            "Capabilities.current_ladder_na is the column's ladder",
            f"declared {declared}, column {found}",
            "declare the ladder from the same source the column reads",
        )


@check("set_current_selects_nearest_rung", "set_current_na returns the nearest rung, read back")
def nearest_rung(probe: Probe) -> None:
    column = probe.instrument.column
    ladder = list(column.current_ladder_na())
    tolerance = probe.caps.current_tolerance if probe.caps else 0.01
    picks = sorted({0, len(ladder) // 3, 2 * len(ladder) // 3, len(ladder) - 1})
    for rung in (ladder[i] for i in picks):
        asked = rung * (1 + tolerance / 2)
        selected = column.set_current_na(asked)
        expect(
            close(selected, rung, 1e-9 * rung),
            f"set_current_na({asked:g}) selects the nearest rung, {rung:g} nA",
            f"{selected!r}",
            "select min(ladder, key=|rung - request|) and return it",
        )
        expect(
            close(column.current_na(), rung, 1e-9 * rung),
            f"current_na() reads back the selected {rung:g} nA",
            repr(column.current_na()),
            "read the selected rung back from the column",
        )


@check("measured_current_follows_the_rung", "measured_current_na() reads near the selected rung")
def measured_current(probe: Probe) -> None:
    rung = probe.select_mill_current()
    measured = probe.instrument.column.measured_current_na()
    expect(
        math.isfinite(measured) and 0.5 * rung <= measured <= 2.0 * rung,
        f"IonColumn.measured_current_na() is the beam current now, in nA, near the selected "
        f"{rung:g} nA (suspenders pause a run on the ratio)",
        repr(measured),
        "read the Faraday cup or aperture current in nA, or leave the default (the selected "
        "current)",
    )


@check("voltage_reads_back_and_out_of_range_is_refused", "set_voltage_kv reads back; refuses")
def voltage(probe: Probe) -> None:
    column = probe.instrument.column
    now_kv = column.voltage_kv()
    column.set_voltage_kv(now_kv)
    expect(
        close(column.voltage_kv(), now_kv, 1e-6 * now_kv),
        f"voltage_kv() reads back the {now_kv:g} kV set",
        repr(column.voltage_kv()),
        "read the high voltage back in kV",
    )
    caps = probe.caps
    if caps is None:
        return
    beyond = caps.voltage_range_kv[1] * 2
    raises(
        lambda: column.set_voltage_kv(beyond),
        f"set_voltage_kv({beyond:g}), beyond the declared {caps.voltage_range_kv} kV, must "
        "raise InstrumentError",
        "check the request against the column's range before ramping",
    )
    expect(
        close(column.voltage_kv(), now_kv, 1e-6 * now_kv),
        "a refused voltage leaves the voltage as it was",
        f"{now_kv:g} kV became {column.voltage_kv():g} kV",
        "check before ramping",
    )


@check("detector_levels_read_back", "SE contrast and brightness (0 to 1) read back")
def detector_levels(probe: Probe) -> None:
    detector = probe.instrument.se_detector
    for name, value in (("contrast", 0.25), ("brightness", 0.75)):
        getattr(detector, f"set_{name}")(value)
        got = getattr(detector, name)()
        expect(
            close(got, value, 1e-6),
            f"SEDetector.{name}() reads back the {value:g} set (the vendor's 0 to 1 scale)",
            repr(got),
            "map the vendor's percent or DAC units onto 0 to 1 both ways",
        )


@check("current_far_off_ladder_is_refused", "a current far from every rung is refused, not snapped")
def far_off_current(probe: Probe) -> None:
    column = probe.instrument.column
    ladder = list(column.current_ladder_na())
    before = column.current_na()
    asked = max(ladder) * 10
    raises(
        lambda: column.set_current_na(asked),
        f"set_current_na({asked:g}), ten times the top rung, must raise InstrumentError "
        "(a silent snap runs the recipe at a current it did not ask for)",
        "refuse requests farther than the tolerance from every rung "
        "(fibsims.instrument.capabilities.rung_within), naming the nearest rungs",
    )
    expect(
        close(column.current_na(), before, 1e-9 * max(before, 1e-12)),
        "a refused current leaves the selected current as it was",
        f"{before:g} nA became {column.current_na():g} nA",
        "check the request before touching the aperture",
    )


# --- stage and beam shift ------------------------------------------------------------------


def _stage_tolerances(probe: Probe) -> tuple[float, float]:
    caps = probe.caps
    if caps is None:
        return probe.settings.stage_tolerance_um, 0.01
    return max(caps.stage_tolerance_um, 1e-9), max(caps.stage_tolerance_deg, 1e-9)


def _off_by(a: StagePosition, b: StagePosition, tol_um: float, tol_deg: float) -> list[str]:
    off = [n for n in ("x_um", "y_um", "z_um") if not close(getattr(a, n), getattr(b, n), tol_um)]
    return off + [
        n for n in ("tilt_deg", "rotation_deg") if not close(getattr(a, n), getattr(b, n), tol_deg)
    ]


@check("stage_move_reads_back_and_takes_time", "move_to reaches the target, read back, in time")
def stage_move(probe: Probe) -> None:
    stage, clock = probe.instrument.stage, probe.instrument.clock
    start = stage.position()
    step = probe.settings.stage_step_um
    target = replace(start, x_um=start.x_um + step, y_um=start.y_um - step / 2)
    caps = probe.caps
    if caps is not None and caps.stage_travel_um is not None:
        (xl, xh), (yl, yh), _ = caps.stage_travel_um
        if not xl <= target.x_um <= xh:
            target = replace(target, x_um=start.x_um - step)
        if not yl <= target.y_um <= yh:
            target = replace(target, y_um=start.y_um + step / 2)
    tol_um, tol_deg = _stage_tolerances(probe)
    t0 = clock.now_s()
    reached = stage.move_to(target)
    elapsed = clock.now_s() - t0
    off = _off_by(reached, target, tol_um, tol_deg)
    expect(
        not off,
        f"Stage.move_to() returns the position reached, within the declared tolerance "
        f"({tol_um:g} um, {tol_deg:g} deg) of the target",
        f"{reached} for {target} (off in {', '.join(off)})",
        "return the encoders' read-back after settling, or declare "
        "Capabilities.stage_tolerance_um/_deg",
    )
    if caps is not None:
        beyond = caps.stage_problems("move_to()", reached.x_um, reached.y_um, reached.z_um)
        expect(
            not beyond,
            "the position reached lies within the declared stage travel",
            "; ".join(beyond),
            "declare the travel the stage really has (Capabilities.stage_travel_um)",
        )
    here = stage.position()
    expect(
        not _off_by(here, reached, tol_um, tol_deg),
        "Stage.position() agrees with what move_to() returned",
        f"position() {here}, move_to() {reached}",
        "read both from the same encoders",
    )
    expect(
        elapsed > 0,
        "a move takes instrument time (travel and settle), seen on the clock",
        f"the clock advanced {elapsed:g} s",
        "block until the stage has settled, on the instrument clock",
    )


@check("stage_beyond_travel_is_refused", "a target beyond the declared travel is refused")
def stage_beyond_travel(probe: Probe) -> None:
    caps = probe.need_caps("stage travel")
    if caps.stage_travel_um is None:
        raise NotApplicable("the backend declares no stage travel (Capabilities.stage_travel_um)")
    stage = probe.instrument.stage
    start = stage.position()
    (_, high), _, _ = caps.stage_travel_um
    target = replace(start, x_um=high + max(1000.0, abs(high)))
    raises(
        lambda: stage.move_to(target),
        f"Stage.move_to(x_um={target.x_um:g}) beyond the declared travel must raise "
        "InstrumentError",
        "check the target against the travel before moving",
    )
    expect(
        not _off_by(stage.position(), start, *_stage_tolerances(probe)),
        "a refused move leaves the stage where it was",
        f"{start} became {stage.position()}",
        "check before commanding the motors",
    )


@check("beam_shift_reads_back_within_range", "set_beam_shift_um reads back; beyond range refused")
def beam_shift(probe: Probe) -> None:
    column = probe.instrument.column
    caps = probe.caps
    limit = None if caps is None else caps.beam_shift_range_um
    sx, sy = probe.settings.beam_shift_um
    if limit is not None:
        scale = min(1.0, limit / 4 / max(abs(sx), abs(sy), 1e-12))
        sx, sy = sx * scale, sy * scale
    column.set_beam_shift_um((sx, sy))
    got = tuple(float(v) for v in column.beam_shift_um())
    expect(
        len(got) == 2 and close(got[0], sx, 1e-6) and close(got[1], sy, 1e-6),
        "IonColumn.beam_shift_um() reads back the (x, y) shift set, in um in the face frame",
        f"{got} after setting {(sx, sy)}",
        "convert the deflector units to um and keep x across, y down the face",
    )
    if limit is None:
        return
    beyond = (limit * 1.5, 0.0)
    raises(
        lambda: column.set_beam_shift_um(beyond),
        f"a beam shift of {beyond[0]:g} um, beyond the declared +-{limit:g} um, must raise "
        "InstrumentError",
        "check the shift against Capabilities.beam_shift_range_um",
    )
