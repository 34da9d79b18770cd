"""``fibsims run --dry-run``: the run's preflight and estimate, and nothing moves.

Why a flag of ``run`` and not only ``validate --preflight``: it takes exactly the options the
run would (``--out``, ``--seed``, ``--instrument``, ``--truth``, ``--set``), so the recipe checked
is the one the run would run, the folder and disk the ones it would write to (a ``--out`` the
run would refuse is refused here too) and the instrument the one it would drive.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from fibsims.cli.guard import guarded

EXIT_OK = 0
EXIT_REFUSED = 2


def dry_run(
    recipe: Path,
    *,
    out: Path | None,
    seed: int | None,
    instrument: str,
    truth: bool,
    overrides: tuple[str, ...] = (),
) -> int:
    """Print the estimate, the problems and the warnings; 0 when the run would start."""
    from fibsims.service.estimate import (  # opens a backend: imported only when used
        EstimateError,
        EstimateRequest,
        describe_estimate,
        preflight_recipe,
    )

    console = Console(highlight=False, markup=False, soft_wrap=True)
    request = EstimateRequest(
        recipe, instrument, seed=seed, truth=truth, out=out, overrides=overrides, as_run=True
    )
    report = guarded(lambda: preflight_recipe(request), (EstimateError,), "interrupted")
    for line in describe_estimate(report.estimate):
        console.print(line)
    for problem in report.problems:
        console.print(f"problem: {problem}")
    for warning in report.warnings:
        console.print(f"warning: {warning}")
    verdict = "would start" if report.ok else "would be refused"
    console.print(f"dry run: the run {verdict} on {instrument!r}; nothing moved")
    return EXIT_OK if report.ok else EXIT_REFUSED
