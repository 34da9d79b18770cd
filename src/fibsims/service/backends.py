"""``fibsims backends``: the installed instrument backends and what each declares.

Why open each one: what matters to an operator choosing ``--instrument`` is what the backend
says about itself (its ion species, current ladder, voltage, whether it can time a recipe or
score a run against a ground truth), and only an open backend can say it. Opening is cheap for
the twin (a probe sample, no acquisition; the beam stays blanked) and is what ``run`` does
first anyway. A backend that cannot be opened here (hardware switched off, a missing driver)
is still listed, with the reason, never a traceback.

What a backend declares in its :class:`~fibsims.instrument.Capabilities` (voltage range,
scan generators, field of view, stage tilt, current tolerance) is listed in full; a backend
that declares none shows its column's ladder and voltage only.
"""

from __future__ import annotations

import contextlib
from importlib.metadata import entry_points
from typing import Any

from fibsims.instrument.registry import ENTRY_POINT_GROUP, InstrumentOptions
from fibsims.recipe import Sample, TwinSample

PROBE_SAMPLE = Sample(
    name="backend probe", twin=TwinSample(phantom="nmc811", seed=0, porosity=0.4)
).model_dump(mode="json")
"""The sample a backend is opened with to describe it (hardware ignores it; a twin needs one)."""


def describe_backends() -> list[dict[str, Any]]:
    """One record per installed backend, by name: where it comes from and what it declares."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return [_describe(ep) for ep in found]


def _describe(entry_point: Any) -> dict[str, Any]:
    dist = getattr(entry_point, "dist", None)
    record: dict[str, Any] = {
        "name": entry_point.name,
        "entry_point": entry_point.value,
        "package": f"{dist.name} {dist.version}" if dist is not None else None,
        "opened": False,
    }
    try:
        factory = entry_point.load()
        instrument = factory(InstrumentOptions(seed=0, sample=PROBE_SAMPLE))
    except Exception as error:  # any backend's failure is a line of the listing
        record["error"] = f"{type(error).__name__}: {error}"
        return record
    try:
        record.update(_declared(instrument))
        record["opened"] = True
    except Exception as error:
        record["error"] = f"{type(error).__name__}: {error}"
    finally:
        with contextlib.suppress(Exception):
            instrument.column.blank()
        with contextlib.suppress(Exception):
            instrument.close()
    return record


def _declared(instrument: Any) -> dict[str, Any]:
    column = instrument.column
    caps = instrument.capabilities
    return {
        "instrument": instrument.name,
        "ion_species": column.ion_species,
        "current_ladder_na": [float(rung) for rung in sorted(column.current_ladder_na())],
        "voltage_kv": float(column.voltage_kv()),
        "voltage_range_kv": list(caps.voltage_range_kv) if caps else None,
        "cost_model": instrument.costs is not None,
        "ground_truth": instrument.truth is not None,
        "vacuum_gauge": instrument.vacuum is not None,
        "capabilities": caps.to_json() if caps else None,
    }


def _declared_ranges(caps: dict[str, Any]) -> dict[str, str]:
    """The optional declarations, one row each when declared: rotation, travel, beam shift,
    devices."""
    rows = {}
    if caps.get("stage_rotation_range_deg"):
        low, high = caps["stage_rotation_range_deg"]
        rows["stage rotation"] = f"{low:g} to {high:g} deg"
    if caps.get("stage_travel_um"):
        rows["stage travel"] = (
            ", ".join(
                f"{axis} {low:g} to {high:g}"
                for axis, (low, high) in zip("xyz", caps["stage_travel_um"], strict=True)
            )
            + " um"
        )
    if caps.get("beam_shift_range_um") is not None:
        rows["beam shift"] = f"+-{caps['beam_shift_range_um']:g} um per axis"
    if caps.get("devices"):
        rows["devices"] = ", ".join(caps["devices"])
    return rows


def _scan_line(scan: dict[str, Any] | None) -> str:
    if scan is None:
        return "none"
    width, height = scan["max_resolution_px"]
    step = scan.get("dwell_step_us")
    steps = f" in {step:g} us steps" if step else ""
    presets = scan.get("preset_resolutions_px") or []
    sizes = (
        "presets " + ", ".join(f"{w} x {h}" for w, h in presets)
        if presets
        else f"up to {width} x {height} px"
    )
    return f"{sizes}, dwell {scan['min_dwell_us']:g} to {scan['max_dwell_us']:g} us{steps}"


def describe_backend_lines(records: list[dict[str, Any]]) -> list[str]:
    """The listing for a terminal."""
    if not records:
        return [f"no instrument backends installed (entry point group {ENTRY_POINT_GROUP})"]
    lines = []
    for r in records:
        lines.append(f"{r['name']}: {r['entry_point']} ({r['package'] or 'unknown package'})")
        if not r["opened"]:
            lines.append(f"  could not be opened to describe it: {r.get('error')}")
            continue
        ladder = ", ".join(f"{rung:g}" for rung in r["current_ladder_na"])
        span = r["voltage_range_kv"]
        volts = f"{span[0]:g}-{span[1]:g} kV" if span else "range not declared"
        yes = {True: "yes", False: "no"}
        rows = {
            "ion species": r["ion_species"],
            "current ladder": f"{ladder} nA",
            "voltage": f"{r['voltage_kv']:g} kV now ({volts})",
            "cost model": yes[r["cost_model"]]
            + ("" if r["cost_model"] else " (estimates are lower bounds)"),
            "ground truth": yes[r["ground_truth"]]
            + (" (--truth works)" if r["ground_truth"] else ""),
            "vacuum gauge": yes[r["vacuum_gauge"]],
        }
        caps = r.get("capabilities")
        if caps:
            low, high = caps["stage_tilt_range_deg"]
            rows |= {
                "current match": f"within {caps['current_tolerance']:.0%} of a rung",
                "SE scan": _scan_line(caps["se_scan"]),
                "SIMS raster": _scan_line(caps["sims_scan"]),
                "field of view": f"up to {caps['max_field_width_um']:g} um",
                "stage tilt": f"{low:g} to {high:g} deg",
                **_declared_ranges(caps),
            }
        else:
            rows["capabilities"] = "not declared (preflight checks the ladder only)"
        lines += [f"  {label + ':':<16}{value}" for label, value in rows.items()]
    return lines
