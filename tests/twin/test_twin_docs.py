"""docs/physics.md lists every parameter of the twin, with its value and source or ASSUMED."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fibsims_twin.parameters import TwinParameters

DOC = Path(__file__).resolve().parents[2] / "docs" / "physics.md"
# a source: the shared reference, a cited paper's year in parentheses, IUPAC, the format itself
SOURCED = r"physics\.md|ASSUMED|numerical|IUPAC|image format|\(\d{4}\)"


def parameter_names() -> list[tuple[str, str]]:
    groups = TwinParameters()
    return [
        (group.name, f.name)
        for group in dataclasses.fields(groups)
        for f in dataclasses.fields(getattr(groups, group.name))
    ]


def test_every_parameter_has_a_row_with_a_source_or_assumed() -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("|")]
    missing, unsourced = [], []
    for group, name in parameter_names():
        found = [row for row in rows if re.search(rf"`{name}`", row)]
        if not found:
            missing.append(f"{group}.{name}")
        elif not any(re.search(SOURCED, r) for r in found):
            unsourced.append(f"{group}.{name}")
    assert not missing, f"parameters without a row in docs/physics.md: {missing}"
    assert not unsourced, f"rows without a source, ASSUMED or numerical: {unsourced}"
