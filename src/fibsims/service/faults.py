"""Fault injection specs for the twin: ``--fault KIND@slice=N[,key=value...]``.

The user names the slice; the twin works in physical terms, so each spec is resolved here
into the face depth at which it fires (slice N exposes the face at (N+1) x thickness). Hardware
backends ignore faults. Kinds and their keys:

- ``beam_current_drop``: the measured beam current falls to ``factor`` (0.2) of the selected
  rung for ``duration_s`` (900) of instrument time. Exercises the beam-current suspender.
- ``pressure_spike``: chamber pressure rises to ``pressure_pa`` (0.01) for ``duration_s`` (900).
- ``transient``: the next ``count`` (2) calls of ``step`` (sims_raster) fail transiently.
- ``hardware_fault``: the next call of ``step`` (mill) fails with a hardware fault.
- ``autofocus_failure``: the next ``count`` (1) autofocus calls fail.
- ``interlock``: the next beam action trips a safety interlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fibsims.recipe import Recipe

FAULT_KEYS: dict[str, dict[str, Any]] = {
    "beam_current_drop": {"duration_s": 900.0, "factor": 0.2},
    "pressure_spike": {"duration_s": 900.0, "pressure_pa": 0.01},
    "transient": {"count": 2, "step": "sims_raster"},
    "hardware_fault": {"step": "mill"},
    "autofocus_failure": {"count": 1},
    "interlock": {},
}
STEPS = ("mill", "se_image", "sims_raster", "autofocus")  # device actions; polish mills too


class FaultSpecError(ValueError):
    """A ``--fault`` spec that cannot be understood; the message says the accepted form."""


def _value(kind: str, key: str, raw: str) -> Any:
    default = FAULT_KEYS[kind][key]
    if key == "step":
        if raw not in STEPS:
            raise FaultSpecError(f"--fault {kind}: step={raw!r}; use one of {', '.join(STEPS)}")
        return raw
    try:
        return type(default)(raw)
    except ValueError:
        raise FaultSpecError(
            f"--fault {kind}: {key}={raw!r} is not a {type(default).__name__}"
        ) from None


def parse_fault(spec: str, recipe: Recipe) -> dict[str, Any]:
    """``beam_current_drop@slice=3,duration_s=600`` -> a dict the twin understands."""
    form = "KIND@slice=N[,key=value...]"
    kind, _, rest = spec.partition("@")
    if kind not in FAULT_KEYS:
        raise FaultSpecError(
            f"--fault {spec!r}: unknown kind {kind!r}; kinds: {', '.join(FAULT_KEYS)}"
        )
    fields = dict(FAULT_KEYS[kind])
    at_slice = None
    for item in filter(None, rest.split(",")):
        key, sep, raw = item.partition("=")
        if not sep:
            raise FaultSpecError(f"--fault {spec!r}: {item!r} is not key=value; form: {form}")
        if key == "slice":
            if not raw.isdigit():
                raise FaultSpecError(f"--fault {spec!r}: slice must be a whole number")
            at_slice = int(raw)
        elif key in fields:
            fields[key] = _value(kind, key, raw)
        else:
            allowed = ", ".join(["slice", *FAULT_KEYS[kind]])
            raise FaultSpecError(f"--fault {spec!r}: unknown key {key!r}; allowed: {allowed}")
    if at_slice is None:
        raise FaultSpecError(f"--fault {spec!r}: say at which slice; form: {form}")
    if at_slice >= recipe.volume.slices:
        raise FaultSpecError(
            f"--fault {spec!r}: slice {at_slice} is past the recipe's last slice "
            f"({recipe.volume.slices - 1})"
        )
    at_face_um = (at_slice + 1) * recipe.volume.slice_thickness_nm / 1000.0
    return {"kind": kind, "at_slice": at_slice, "at_face_um": at_face_um, **fields}


def resolve_faults(specs: Sequence[str], recipe: Recipe) -> tuple[dict[str, Any], ...]:
    return tuple(parse_fault(spec, recipe) for spec in specs)
