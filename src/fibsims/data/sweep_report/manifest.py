"""``DIR/sweep.json``: what a sweep varied, over which seeds, scored by which objective.

Why read strictly: the comparison report is only as good as its idea of what was varied. A
file that is not JSON, of another format version, or that lacks a field is refused with the
file named and what to do, never guessed around.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fibsims.data.pareto import higher_is_better
from fibsims.data.report.errors import ReportError
from fibsims.data.sweep_folder import FORMAT, MANIFEST

REQUIRED = ("format", "recipe", "axes", "seeds", "objective", "variants")
VARIANT_FIELDS = ("id", "values", "seed", "run_dir")
DIRECTIONS = ("max", "min")


def rerun(folder: Path) -> str:
    """The fix for a sweep file that is missing or damaged: the sweep writes it again."""
    return (
        f"run the same `fibsims sweep RECIPE ... --out {folder}` command again: it resumes the "
        "sweep (done variants are kept) and writes the file again"
    )


@dataclass(frozen=True)
class Variant:
    id: str
    values: dict[str, Any]
    seed: int | None
    run_dir: str


@dataclass(frozen=True)
class Sweep:
    folder: Path
    recipe: str
    axes: dict[str, list[Any]]
    seeds: list[Any]
    objective: str
    variants: list[Variant]
    direction: str = "max"
    """``max`` (the default: a correlation, a Dice) or ``min`` (an error, a residual)."""
    recipe_sha256: str = ""
    sets: list[str] = field(default_factory=list)
    keep: str = ""


def _fail(path: Path, problem: str) -> ReportError:
    return ReportError(f"{path}: {problem}; {rerun(path.parent)}")


def _variant(path: Path, n: int, raw: Any) -> Variant:
    if not isinstance(raw, dict):
        raise _fail(path, f"variants[{n}] is not an object")
    absent = [k for k in VARIANT_FIELDS if k not in raw]
    if absent:
        raise _fail(path, f"variants[{n}] lacks {', '.join(absent)}")
    if not isinstance(raw["values"], dict):
        raise _fail(path, f"variants[{n}].values is not an object of path: value")
    seed = raw["seed"]
    return Variant(
        str(raw["id"]),
        dict(raw["values"]),
        seed if isinstance(seed, int) else None,
        str(raw["run_dir"]),
    )


def read_sweep(folder: Path) -> Sweep:
    """The sweep of ``folder``; :class:`ReportError` naming the file when it cannot be read."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ReportError(
            f"{path} is missing: a sweep writes it before its first variant, so {folder} is not "
            f"a sweep folder or its sweep never started; {rerun(folder)}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "is not text") from None
    except json.JSONDecodeError as error:
        raise _fail(
            path, f"is not JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(data, dict):
        raise _fail(path, "is not a JSON object")
    version = data.get("format")
    if version != FORMAT and version is not None:
        newer = isinstance(version, str) and version.startswith("fibsims-sweep/")
        raise ReportError(
            f"{path}: format {version!r} is not {FORMAT!r}, the one this fibsims reads; "
            + (
                "it was written by another fibsims version: report it with that version"
                if newer
                else "it is not a fibsims sweep file"
            )
        )
    absent = [k for k in REQUIRED if k not in data]
    if absent:
        raise _fail(path, f"lacks {', '.join(absent)}")
    if not isinstance(data["axes"], dict) or not isinstance(data["variants"], list):
        raise _fail(path, "axes must be an object of path: [values] and variants a list")
    default = "max" if higher_is_better(str(data.get("objective", ""))) else "min"
    direction = str(data.get("direction", default))
    if direction not in DIRECTIONS:
        raise _fail(path, f"direction {direction!r} is neither 'max' nor 'min'")
    seeds = data["seeds"] if isinstance(data["seeds"], list) else [data["seeds"]]
    return Sweep(
        folder=folder,
        recipe=str(data["recipe"]),
        axes={str(k): v if isinstance(v, list) else [v] for k, v in data["axes"].items()},
        seeds=seeds,
        objective=str(data["objective"]),
        variants=[_variant(path, n, raw) for n, raw in enumerate(data["variants"])],
        direction=direction,
        recipe_sha256=str(data.get("recipe_sha256") or ""),
        sets=[str(s) for s in data.get("sets") or []],
        keep=str(data.get("keep") or ""),
    )
