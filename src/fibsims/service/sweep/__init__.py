"""``fibsims sweep``: many variants of one recipe, each a normal run on the twin, on Dask.

Modules, one concept each: :mod:`.axes` (``--vary`` and the path shorthand), :mod:`.plan` (the
grid or variants file, seeds, ids), :mod:`.checks` (validation and preflight of every variant),
:mod:`.manifest` (``sweep.json``, the same-sweep check of a rerun), :mod:`.task` (one variant,
on a worker), :mod:`.keep` (``--keep``), :mod:`.execute` (Dask: the only module importing it),
:mod:`.collect` (the rows), :mod:`.runner` (the whole, in order). The table and the plot are
data products: :mod:`fibsims.data.sweep_table`, :mod:`fibsims.data.pareto`,
:mod:`fibsims.data.sweep_preview`. The user's guide: ``docs/sweeps.md``.
"""
