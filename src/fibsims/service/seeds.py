"""The run seed a command uses when ``--seed`` is not given.

A module of its own so that ``fibsims estimate`` (which seeds the backend it asks exactly as
the run would) need not import the run service, and with it h5py, ZeroMQ and the data layer.
"""

from __future__ import annotations

from fibsims.recipe import Recipe


def default_seed(recipe: Recipe) -> int:
    """The run seed when ``--seed`` is not given: the twin sample's seed, else 0."""
    return recipe.sample.twin.seed if recipe.sample.twin is not None else 0
