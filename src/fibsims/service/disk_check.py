"""Whether a run's data fits on the disk it goes to: checked before anything moves.

Why the run file counts too: finalizing writes run.h5 from the slice files while they still
exist, so the peak need is the slice files still to come plus a whole run.h5 (all slices),
times the recipe's margin (``suspenders.free_disk.margin``).
"""

from __future__ import annotations

from pathlib import Path

from fibsims.engine.estimate import estimate_plan
from fibsims.engine.plan import Plan
from fibsims.instrument.interfaces import CostModel
from fibsims.service.outdir import free_bytes

GIB = 2**30


def disk_problem(
    plan: Plan, costs: CostModel | None, folder: Path, *, first_slice: int = 0, truth: bool = False
) -> str | None:
    """Why the run's data will not fit where ``folder`` goes, with the numbers; else None."""
    remaining = estimate_plan(plan, costs, first_slice, truth).data_bytes
    run_file = estimate_plan(plan, costs, 0, truth).data_bytes
    margin = plan.recipe.suspenders.free_disk.margin
    needed = (remaining + run_file) * margin
    free = free_bytes(folder)
    if free >= needed:
        return None
    return (
        f"disk: the run needs about {needed / GIB:.3g} GiB ({remaining / GIB:.3g} GiB of slice "
        f"files and {run_file / GIB:.3g} GiB for run.h5, times the margin {margin:g} of "
        f"suspenders.free_disk) but {free / GIB:.3g} GiB are free where {folder} goes; free "
        "space, choose another --out, or plan fewer slices or smaller images"
    )
