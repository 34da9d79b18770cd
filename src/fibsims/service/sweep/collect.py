"""The sweep's rows: what each variant's folder says of it, and the points of the Pareto plot.

A variant counts as done only when its folder says so twice: ``sweep_variant.json`` (written
once its run completed and its preview and size were taken) and a ``run.json`` whose recipe,
``--set`` overrides and seed are the variant's. Anything less is run (or resumed) again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fibsims.data.pareto import Point
from fibsims.data.state_file import read_json_object
from fibsims.data.sweep_table import QUALITY_PREFIX, flat_quality
from fibsims.service.sweep.plan import Variant
from fibsims.service.sweep.task import RESULT_NAME


def new_row(variant: Variant, status: str = "pending", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "variant": variant.id,
        "run_dir": variant.run_dir,
        "status": status,
        "error": "",
        "seed": variant.seed,
        "values": variant.values,
        "simulated_seconds": None,
        "slices_done": None,
        "data_bytes": None,
        "quality": {},
    }
    row.update(fields)
    return row


def row_from_result(variant: Variant, result: dict[str, Any]) -> dict[str, Any]:
    status = result.get("status")
    status = status if status in {"done", "pending"} else "failed"
    return new_row(
        variant,
        status,
        error=result.get("error", "") if status == "failed" else "",
        simulated_seconds=result.get("simulated_seconds"),
        slices_done=result.get("slices_done"),
        data_bytes=result.get("data_bytes"),
        quality=result.get("quality") or {},
    )


def is_this_variant(folder: Path, variant: Variant, recipe_sha256: str) -> bool | None:
    """Whether the run in ``folder`` is ``variant`` (None: the folder holds no run)."""
    manifest = read_json_object(folder / "run.json")
    if manifest is None:
        return None
    return (
        manifest.get("recipe_sha256") == recipe_sha256
        and list(manifest.get("overrides") or []) == list(variant.sets)
        and manifest.get("seed") == variant.seed
    )


def finished_row(folder: Path, variant: Variant, recipe_sha256: str) -> dict[str, Any] | None:
    """The row of a variant done by an earlier sweep in ``folder``, else None."""
    done = read_json_object(folder / RESULT_NAME)
    if done is None or done.get("status") != "done":
        return None
    if not is_this_variant(folder, variant, recipe_sha256):
        return None
    summary = read_json_object(folder / "summary.json") or {}
    if summary.get("status") != "completed":
        return None
    quality = summary.get("quality")
    return new_row(
        variant,
        "done",
        simulated_seconds=summary.get("simulated_seconds"),
        slices_done=summary.get("slices_completed"),
        data_bytes=done.get("data_bytes"),
        quality=quality if isinstance(quality, dict) else {},
    )


def points(rows: list[dict[str, Any]], objective: str) -> list[Point]:
    """Every done variant with a number for ``objective`` (``quality.<name>``)."""
    metric = objective.removeprefix(QUALITY_PREFIX)
    found = []
    for row in rows:
        value = flat_quality(row.get("quality") or {}).get(metric)
        seconds = row.get("simulated_seconds")
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if row["status"] == "done" and number and isinstance(seconds, int | float):
            found.append(Point(row["variant"], seconds / 3600, float(value)))
    return found
