"""The variants of a sweep: the grid of ``--vary`` axes (or the list of a ``--variants`` file)
times the seeds, each with its id, its run seed and the ``--set`` overrides that make it.

A variant is the base recipe with ``--set`` overrides: the base's own ``--set`` first, then the
variant's values by their full recipe paths. So each variant's run folder is exactly what
``fibsims run BASE --set ... --seed S --truth`` would make, its ``run.json`` records the
overrides, and ``fibsims resume`` or ``inspect`` read it as any run.

Seeds: ``--seeds N`` runs every grid point with the run seeds ``S, S+1, ..., S+N-1``, where
``S`` is ``--seed`` or, without it, the seed ``fibsims run`` takes by default (the base recipe's
``sample.twin.seed``). The run seed draws the instrument's noise; the sample itself (the
phantom) stays the recipe's, so seeds repeat one measurement of one sample.

Variant ids are ``NNN_<leaf>-<value>..._s<seed>`` (``002_frames-10``, ``004_frames-10_s812``), in
grid order (the first ``--vary`` outermost, the seeds innermost); the same command gives the
same ids, which is what lets a rerun find the variants it already ran.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fibsims.data.sweep_folder import VARIANTS
from fibsims.recipe import Recipe, RecipeError, parse_overrides
from fibsims.recipe.yaml_guard import BoundedLoader, LimitExceeded
from fibsims.recipe.yaml_source import read_yaml
from fibsims.service.sweep.axes import (
    Axis,
    SweepInputError,
    make_axis,
    parse_value,
    resolve_path,
)

MAX_VARIANTS = 10_000
"""A grid beyond this is a typo (or a week of cluster time): refused with the count."""
MAX_SEEDS = 1000


@dataclass(frozen=True)
class Variant:
    id: str
    values: dict[str, Any]
    """The varied values by the path as given (``sims_raster.frames``: 5)."""
    seed: int
    sets: tuple[str, ...]
    """Every ``--set`` that makes this variant from the base file, the base's first."""

    @property
    def run_dir(self) -> str:
        return f"{VARIANTS}/{self.id}"

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "values": self.values, "seed": self.seed, "run_dir": self.run_dir}


@dataclass(frozen=True)
class SweepPlan:
    axes: dict[str, list[Any]]
    """Every varied path as given, with its values in order (a variants file: those it lists)."""
    paths: dict[str, str]
    """The full recipe path of every varied path as given."""
    seeds: list[int]
    variants: list[Variant]


def base_data(text: str, source: str, sets: Sequence[str]) -> dict[str, Any]:
    """The base recipe's YAML data with its ``--set`` applied: what shorthand paths resolve in."""
    from fibsims.recipe.overrides import apply_overrides

    document = read_yaml(text, source)
    data = document.data if isinstance(document.data, Mapping) else {}
    applied, _ = apply_overrides(data, parse_overrides(sets))
    return applied


def first_seed(data: Mapping[str, Any], base: Recipe | None) -> int:
    """The run seed ``fibsims run`` takes without ``--seed``: the twin sample's seed, else 0."""
    if base is not None:
        return base.sample.twin.seed if base.sample.twin is not None else 0
    twin = (data.get("sample") or {}).get("twin") if isinstance(data.get("sample"), dict) else None
    seed = twin.get("seed") if isinstance(twin, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else 0


def _slug(text: str, limit: int = 24) -> str:
    slug = re.sub(r"[^A-Za-z0-9.+]+", "-", text).strip("-.")
    return slug[:limit] or "x"


def _labels(given: Sequence[str]) -> dict[str, str]:
    """What each varied path is called in variant ids: its last part, unless two share it."""
    leaves = [path.rsplit(".", 1)[-1] for path in given]
    return {
        path: (leaf if leaves.count(leaf) == 1 else _slug(path.replace(".", "-"), 40))
        for path, leaf in zip(given, leaves, strict=True)
    }


def expand(
    points: list[list[tuple[str, str, Any]]],
    paths: Mapping[str, str],
    seeds: Sequence[int],
    sets: Sequence[str],
) -> list[Variant]:
    """Every point (its ``(given path, value text, value)`` triples) times every seed."""
    total = len(points) * len(seeds)
    if total > MAX_VARIANTS:
        raise SweepInputError(
            f"the sweep has {total:,} variants ({len(points):,} points x {len(seeds)} seeds); "
            f"at most {MAX_VARIANTS:,}: vary fewer values"
        )
    width = max(3, len(str(total)))
    labels = _labels(list(paths))
    variants = []
    for point, seed in itertools.product(points, seeds):
        number = len(variants) + 1
        parts = [f"{labels[given]}-{_slug(text)}" for given, text, _ in point]
        if len(seeds) > 1:
            parts.append(f"s{seed}")
        variants.append(
            Variant(
                id="_".join([f"{number:0{width}d}", *parts]),
                values={given: value for given, _, value in point},
                seed=seed,
                sets=(*sets, *(f"{paths[given]}={text}" for given, text, _ in point)),
            )
        )
    return variants


def grid_plan(
    specs: Sequence[str], data: Mapping[str, Any], seeds: Sequence[int], sets: Sequence[str]
) -> SweepPlan:
    """The cartesian grid of the ``--vary`` specs."""
    axes: list[Axis] = [make_axis(spec, data) for spec in specs]
    given = [axis.given for axis in axes]
    if len(set(given)) != len(given):
        twice = sorted({g for g in given if given.count(g) > 1})[0]
        raise SweepInputError(f"--vary {twice} is given twice; give all its values in one")
    paths = {axis.given: axis.path for axis in axes}
    if len(set(paths.values())) != len(paths):
        raise SweepInputError(
            "two --vary paths name the same recipe field: "
            + ", ".join(f"{g} = {p}" for g, p in paths.items())
        )
    count = 1
    for axis in axes:
        count *= len(axis.values)
    if count * len(seeds) > MAX_VARIANTS:
        raise SweepInputError(
            f"the sweep has {count * len(seeds):,} variants "
            f"({' x '.join(str(len(a.values)) for a in axes)} values x {len(seeds)} seeds); "
            f"at most {MAX_VARIANTS:,}: vary fewer values"
        )
    points = [
        list(zip(given, texts, values, strict=True))
        for texts, values in zip(
            itertools.product(*(a.texts for a in axes)),
            itertools.product(*(a.values for a in axes)),
            strict=True,
        )
    ]
    return SweepPlan(
        {a.given: list(a.values) for a in axes},
        paths,
        list(seeds),
        expand(points, paths, seeds, sets),
    )


def read_variants_file(path: Path) -> list[dict[str, Any]]:
    """A ``--variants`` file: a YAML list of mappings, each ``path: value``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepInputError(f"--variants {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SweepInputError(f"--variants {path}: cannot be read ({error})") from None
    try:
        data = yaml.load(text, Loader=BoundedLoader)
    except (yaml.YAMLError, LimitExceeded) as error:
        raise SweepInputError(f"--variants {path}: not YAML ({error})") from None
    example = (
        "e.g.\n- {sims_raster.frames: 5}\n- {sims_raster.frames: 10, sims_raster.dwell_us: 20}"
    )
    if not isinstance(data, list) or not data:
        raise SweepInputError(f"--variants {path}: give a non-empty list of mappings, {example}")
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not item or not all(isinstance(k, str) for k in item):
            raise SweepInputError(
                f"--variants {path}: item {i} is not a mapping of paths to values; {example}"
            )
    return data


def file_plan(
    path: Path, data: Mapping[str, Any], seeds: Sequence[int], sets: Sequence[str]
) -> SweepPlan:
    """The variants a ``--variants`` file lists, each with every seed."""
    items = read_variants_file(path)
    paths: dict[str, str] = {}
    axes: dict[str, list[Any]] = {}
    points = []
    for item in items:
        point = []
        for given, value in item.items():
            if given not in paths:
                paths[given] = resolve_path(given, data)
                axes[given] = []
            text = json.dumps(value, default=str)  # YAML reads JSON: the same value back
            parsed = parse_value(paths[given], text)
            if parsed not in axes[given]:
                axes[given].append(parsed)
            point.append((given, text, parsed))
        points.append(point)
    return SweepPlan(axes, paths, list(seeds), expand(points, paths, seeds, sets))


def load_base(text: str, source: str, sets: Sequence[str]) -> Recipe | None:
    """The base recipe with its ``--set``, or None when only its variants make it valid."""
    from fibsims.recipe import parse_recipe

    try:
        return parse_recipe(text, source, parse_overrides(sets))
    except RecipeError:
        return None
