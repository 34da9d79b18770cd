"""The run report: ``DIR/report/index.html`` with its figures, made from a finished run.

Modules, one concept each: :mod:`.sources` (which products), :mod:`.grid` and :mod:`.stacks`
(one pass over the slices onto an analysis grid), :mod:`.segment` and :mod:`.cracks`
(particles and cracks from the SE image), :mod:`.particles` (lithium per particle),
:mod:`.comparison` (scores against the twin's truth), :mod:`.timing` and :mod:`.record` (time
and incidents), :mod:`.reconstructed` (the optional volumes.h5), :mod:`.figures` (matplotlib,
Agg, one module per figure), :mod:`.drawing`, :mod:`.content` and :mod:`.page` (the page),
:mod:`.build` (the folder). See docs/report.md.
"""

from __future__ import annotations

from fibsims.data.report.build import REPORT_DIR, Report, build_report
from fibsims.data.report.errors import ReportError
from fibsims.data.report.progress import Progress

__all__ = ["REPORT_DIR", "Progress", "Report", "ReportError", "build_report"]
