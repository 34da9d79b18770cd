"""A sweep's table, ``sweep.csv``: one row per variant, in the sweep's order.

Columns, in this order: ``variant``, ``run_dir``, ``status`` (``done``, ``failed``, ``pending``),
``error`` (one line, empty unless failed), ``seed``, one column per varied path named as given
on the command line (``sims_raster.frames``), ``simulated_seconds``, ``instrument_hours``,
``slices_done``, ``data_bytes`` (the variant's run folder as acquired, before ``--keep
summary`` pruned it), then ``quality.<name>`` for every quality metric any variant produced
(sorted; an empty cell where a variant has none).

CSV and not parquet: pandas, polars, R and a spreadsheet all read it, and writing parquet
would add pyarrow (about 100 MB) to every worker for a table of a few hundred rows.
Values are written as YAML/JSON would read them back (``[64, 48]`` for a list).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fibsims.data.atomic import write_atomic

LEADING = ("variant", "run_dir", "status", "error", "seed")
MEASURES = ("simulated_seconds", "instrument_hours", "slices_done", "data_bytes")
QUALITY_PREFIX = "quality."
STATUSES = ("done", "failed", "pending")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, separators=(", ", ": "))


def flat_quality(quality: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: a nested metric gets a dotted name."""
    flat: dict[str, Any] = {}
    for key, value in quality.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flat_quality(value, name + "."))
        else:
            flat[name] = value
    return flat


def columns(axes: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    metrics = sorted({name for row in rows for name in flat_quality(row.get("quality") or {})})
    return [*LEADING, *axes, *MEASURES, *(QUALITY_PREFIX + m for m in metrics)]


def table_text(axes: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """The CSV of ``rows`` (each with the LEADING and MEASURES keys, ``values`` by varied path and
    ``quality``); ``instrument_hours`` is derived from ``simulated_seconds``."""
    header = columns(axes, rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        values = row.get("values") or {}
        quality = flat_quality(row.get("quality") or {})
        seconds = row.get("simulated_seconds")
        hours = round(seconds / 3600, 6) if isinstance(seconds, int | float) else None
        cells = {**row, "instrument_hours": hours}
        line = [_cell(cells.get(name)) for name in LEADING]
        line += [_cell(values.get(axis)) for axis in axes]
        line += [_cell(cells.get(name)) for name in MEASURES]
        line += [_cell(quality.get(name[len(QUALITY_PREFIX) :])) for name in header[len(line) :]]
        writer.writerow(line)
    return buffer.getvalue()


def write_table(path: Path, axes: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write (atomically: a reader never sees half a table) the sweep's table."""
    text = table_text(axes, rows)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), durable=False)


def read_table(path: Path) -> list[dict[str, str]]:
    """The rows of a sweep.csv as text by column (empty cells as '')."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
