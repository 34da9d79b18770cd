"""The names in a sweep folder, in one place for ``fibsims sweep`` (which writes the folder)
and its comparison report (which reads it), so the two cannot drift apart.

The table's columns are :mod:`fibsims.data.sweep_table`'s; a variant's preview files are
:mod:`fibsims.data.sweep_preview`'s.
"""

from __future__ import annotations

FORMAT = "fibsims-sweep/1"
"""``sweep.json``'s ``format``: what a reader of another layout refuses."""

MANIFEST = "sweep.json"
TABLE = "sweep.csv"
PLOT = "pareto.png"
VARIANTS = "variants"
"""The folder of the variants' run folders."""
