"""``fibsims backends``: the installed instrument backends and what each declares.

Why open each one: what matters to an operator choosing ``--instrument`` is what the backend
says about itself (its ion species, current ladder, voltage, whether it can time a recipe or
score a run against a ground truth), and only an open backend can say it. Opening is cheap for
the twin (a probe sample, no acquisition; the beam stays blanked) and is what ``run`` does
first anyway. A backend that cannot be opened here (hardware switched off, a missing driver)
is still listed, with the reason, never a traceback.

A column may declare its voltage range by a ``voltage_range_kv()`` method returning
``(min_kv, max_kv)``; it is optional (not part of :class:`~fibsims.instrument.IonColumn`),
so without it the range is reported as not declared.
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
    voltage_range = getattr(column, "voltage_range_kv", None)
    return {
        "instrument": instrument.name,
        "ion_species": column.ion_species,
        "current_ladder_na": [float(rung) for rung in sorted(column.current_ladder_na())],
        "voltage_kv": float(column.voltage_kv()),
        "voltage_range_kv": list(voltage_range()) if callable(voltage_range) else None,
        "cost_model": instrument.costs is not None,
        "ground_truth": instrument.truth is not None,
        "vacuum_gauge": instrument.vacuum is not None,
    }


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
        lines += [f"  {label + ':':<16}{value}" for label, value in rows.items()]
    return lines
