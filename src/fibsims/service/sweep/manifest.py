"""``sweep.json``: what a sweep is, written before any variant runs, and the check that a rerun
into the same folder is the same sweep.

A rerun of the same command (same recipe content, ``--set``, axes or variants file, seeds) into
the same folder resumes the sweep. Anything else is refused naming what differs: a sweep folder
holds one sweep, so its table compares like with like (a wider grid goes into a new folder,
and ``fibsims report`` compares folders' tables as they are). ``--keep``, ``--objective``,
``--workers`` and ``--scheduler`` may change between reruns: they change how, not what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fibsims.data.pareto import higher_is_better
from fibsims.data.state_file import read_json_object
from fibsims.data.sweep_folder import FORMAT, MANIFEST
from fibsims.service.sweep.axes import SweepInputError
from fibsims.service.sweep.plan import SweepPlan

LOG = "sweep.log.jsonl"
DEFAULT_OBJECTIVE = "quality.li_map_pearson_r_within_particles"
SAME = ("recipe_sha256", "sets", "axes", "seeds", "variants")


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def make_manifest(
    *,
    recipe: str,
    recipe_sha256: str,
    sets: list[str],
    plan: SweepPlan,
    objective: str,
    keep: str,
    variants_file: str | None,
) -> dict[str, Any]:
    return _plain(
        {
            "format": FORMAT,
            "recipe": recipe,
            "recipe_sha256": recipe_sha256,
            "sets": sets,
            "axes": plan.axes,
            "paths": plan.paths,
            "variants_file": variants_file,
            "seeds": plan.seeds,
            "objective": objective,
            "direction": "max" if higher_is_better(objective) else "min",
            "keep": keep,
            "variants": [v.record() for v in plan.variants],
        }
    )


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's sweep.json, None when it has none; refused when it is not one."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    found = read_json_object(path)
    if found is None or found.get("format") != FORMAT:
        raise SweepInputError(
            f"{path} is not a sweep manifest this fibsims reads (format {FORMAT}); choose "
            "another --out"
        )
    return found


def check_same_sweep(old: Mapping[str, Any], new: Mapping[str, Any], folder: Path) -> None:
    """Refuse a rerun into ``folder`` that is not the sweep it holds, naming what differs."""
    differs = [key for key in SAME if old.get(key) != new.get(key)]
    if not differs:
        return
    shown = []
    for key in differs:
        if key == "variants":
            shown.append(f"variants: {len(old.get(key) or [])} -> {len(new.get(key) or [])}")
        elif key == "recipe_sha256":
            shown.append(f"the recipe's content ({old.get('recipe')} was edited, or is another)")
        else:
            shown.append(f"{key}: {json.dumps(old.get(key))} -> {json.dumps(new.get(key))}")
    raise SweepInputError(
        f"{folder} holds another sweep ({'; '.join(shown)}). Rerun it with the command that "
        "made it to resume it, or give a new --out for this one"
    )
