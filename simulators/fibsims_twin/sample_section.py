"""The recipe's ``sample.twin`` section: which phantom, which seed, which porosity.

Why separate: it is the one place a user's text reaches the phantom, so every refusal names
the field, the value and what to write instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fibsims.instrument import InstrumentError
from fibsims_twin.parameters import PhantomParameters

PHANTOMS: tuple[str, ...] = ("nmc811",)
TWIN_KEYS: tuple[str, ...] = ("phantom", "seed", "porosity", "primaries")
PRIMARIES: tuple[str, ...] = ("equiaxed", "radial")
EXAMPLE_TWIN = "twin: {phantom: nmc811, seed: 811, porosity: 0.30}"


def read_primaries(sample: Mapping[str, Any]) -> str | None:
    """``sample.twin.primaries`` (the primary-grain morphology), None when not given."""
    twin = sample.get("twin") if isinstance(sample, Mapping) else None
    value = twin.get("primaries") if isinstance(twin, Mapping) else None
    if value is not None and value not in PRIMARIES:
        raise InstrumentError(
            f"sample.twin.primaries is {value!r}; set one of: {', '.join(PRIMARIES)}"
        )
    return value


def read_twin_section(sample: Mapping[str, Any], p: PhantomParameters) -> tuple[int, float]:
    twin = sample.get("twin") if isinstance(sample, Mapping) else None
    if twin is None:
        raise InstrumentError(
            "sample.twin is missing: the 'sim' instrument builds its phantom from it; "
            f"add to the recipe's sample section: {EXAMPLE_TWIN}"
        )
    if not isinstance(twin, Mapping):
        raise InstrumentError(
            f"sample.twin must be a mapping like {{{EXAMPLE_TWIN[6:]}}}, got {twin!r}"
        )
    unknown = sorted(set(twin) - set(TWIN_KEYS))
    if unknown:
        raise InstrumentError(
            f"sample.twin has unknown keys {unknown}; allowed: {', '.join(TWIN_KEYS)}"
        )
    name = twin.get("phantom")
    if name not in PHANTOMS:
        raise InstrumentError(
            f"sample.twin.phantom is {name!r}, which the twin does not know; "
            f"set it to one of: {', '.join(PHANTOMS)} (e.g. {EXAMPLE_TWIN})"
        )
    seed = twin.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InstrumentError(
            f"sample.twin.seed is {seed!r}; add an integer seed that names this sample, "
            f"e.g. {EXAMPLE_TWIN}"
        )
    porosity = twin.get("porosity", p.default_porosity)
    if (
        isinstance(porosity, bool)
        or not isinstance(porosity, int | float)
        or not p.porosity_min <= porosity <= p.porosity_max
    ):
        raise InstrumentError(
            f"sample.twin.porosity is {porosity!r}; set a pore volume fraction between "
            f"{p.porosity_min} and {p.porosity_max} (battery electrodes are typically 0.18-0.44)"
        )
    return seed, float(porosity)
