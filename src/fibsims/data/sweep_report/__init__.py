"""The comparison report of a sweep folder (``fibsims sweep ... --out DIR``): ``DIR/report/``.

Modules, one concept each: :mod:`.manifest` (sweep.json), :mod:`.table` (sweep.csv),
:mod:`.ranking` (the objective's order, the best few, the Pareto front), :mod:`.previews` (each
variant's 7Li+ map), :mod:`.labels` (units and varied values as written), :mod:`.pareto` and
:mod:`.maps` (the figures, in the run report's style), :mod:`.content` (the page's words and
tables; the HTML is the run report's :mod:`fibsims.data.report.page`), :mod:`.build` (the
folder). See docs/sweeps.md.
"""

from __future__ import annotations

from fibsims.data.sweep_report.build import DEFAULT_BEST, build_sweep_report

__all__ = ["DEFAULT_BEST", "build_sweep_report"]
