"""How a varied value, a column and a variant are written on the page and in the figures.

Why units from the name: fibsims names carry their unit as a suffix (``current_pa``,
``dwell_us``, ``drift_residual_px_rms``), so the table's header states it without a second
list to keep in step.
"""

from __future__ import annotations

import re

from fibsims.data.sweep_report.table import Row

UNITS = {
    "pa": "pA",
    "na": "nA",
    "us": "us",
    "ms": "ms",
    "s": "s",
    "nm": "nm",
    "um": "um",
    "px": "px",
    "deg": "deg",
    "kv": "kV",
    "hours": "h",
    "fraction": "fraction",
}
COUNTS = ("frames", "passes", "slices", "resolution")


def unit(path: str) -> str:
    """The unit a name states (``sims_raster.current_pa`` -> pA), '' when none."""
    last = path.rsplit(".", 1)[-1]
    if last in COUNTS or last.endswith("_count"):
        return "count"
    if "pearson_r" in last:
        return "r"
    for part in reversed(re.split(r"_", last)[1:]):
        if part in UNITS:
            return UNITS[part]
    return ""


def header(path: str) -> str:
    found = unit(path)
    return f"{path} ({found})" if found else path


def short(path: str) -> str:
    """The last part of a recipe path: ``sims_raster.frames`` -> frames."""
    return path.rsplit(".", 1)[-1]


def values(row: Row) -> str:
    """A variant's varied values, short: ``current_pa=800, frames=5``."""
    return ", ".join(f"{short(p)}={v}" for p, v in row.values.items()) or row.variant
