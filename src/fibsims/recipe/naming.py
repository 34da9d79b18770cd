"""Step names: what each step of a recipe is called, and so what its product is called.

A step may say ``name: li_map``; the name is the product's name in the slice files, run.h5,
events, sims.h5 and the volumes. A step without a name keeps the name fibsims has always given
it, so recipes written before names existed make the very same files: the first step of a kind
is called by its kind (``se_image``), the Nth ``<kind>_<N>`` (``se_image_2``).

Why count every step of the kind, named or not: naming one step then never renames another
(``[se_image: {name: overview}, se_image: {}]`` gives ``overview`` and ``se_image_2``, and the
second keeps that name whether or not the first is named). Steps are counted in the order
they appear: the ``slice:`` list, then the steps of the ``every:`` schedules.
"""

from __future__ import annotations

from collections.abc import Iterable

STEP_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""Lowercase letters, digits and '_', starting with a letter: safe as an HDF5 group, a file
name of every export and a Python identifier, and never mistaken for a number in YAML."""

MAX_STEP_NAME_CHARS = 64

RESERVED_NAMES = frozenset(
    {
        "slices",
        "steps",
        "truth",
        "sample",
        "instrument",
        "title",
        "program_name",
        "experiment_description",
        "fiducial",
        "autofocus",
        "auto_contrast",
    }
)
"""Names a step may not take: run.h5 already holds a group or dataset of that name beside the
products (the slice and step tables, the truth, the NeXus fields), or a step of that kind runs
by itself (the fiducial, the scheduled tasks)."""


def generated_name(kind: str, number: int) -> str:
    """The name of the ``number``-th (1-based) step of ``kind`` when it has none of its own."""
    return kind if number == 1 else f"{kind}_{number}"


def step_names(steps: Iterable[tuple[str, str | None]]) -> list[str]:
    """The name of each ``(kind, own name)`` in recipe order (see the module docstring)."""
    seen: dict[str, int] = {}
    names = []
    for kind, own in steps:
        seen[kind] = seen.get(kind, 0) + 1
        names.append(own if own is not None else generated_name(kind, seen[kind]))
    return names


def name_clash(steps: list[tuple[str, str, str | None]]) -> tuple[int, str] | None:
    """The first step whose name another step already has, with why and the fix; None when
    every name is unique. ``steps`` are ``(where, kind, own name)`` in recipe order, ``where``
    the step's path in the YAML file (``slice.2``)."""
    names = step_names((kind, own) for _, kind, own in steps)
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name not in first:
            first[name] = i
            continue
        earlier = first[name]
        return i, (
            f"two steps are called '{name}': {_how_named(steps[earlier], name)} and "
            f"{_how_named(steps[i], name)}; a step's name names its product, so names must be "
            "unique: give one of them another name (name: ...)"
        )
    return None


def _how_named(step: tuple[str, str, str | None], name: str) -> str:
    where, kind, own = step
    if own is not None:
        return f"{where} ({kind}, name: {name})"
    return f"{where} (an unnamed {kind}, hence '{name}')"
