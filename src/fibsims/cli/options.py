"""Options several commands share, in a module that imports nothing but typer.

Why apart: ``fibsims estimate`` takes ``--set`` as ``run`` does, and must not import the run
commands (and what they import) to get it (issue 13: its start-up time).
"""

from __future__ import annotations

from typing import Annotated

import typer

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Change one recipe value before validation, as path=value (YAML value; "
        "repeatable), e.g. --set volume.slices=10 --set slice.2.se_image.dwell_us=2. "
        "Recorded in run.json; resume keeps it.",
    ),
]
