"""docs/protocol.md names every wire method and the limits the code enforces, so a method added
to the table cannot go undocumented."""

from __future__ import annotations

from pathlib import Path

from fibsims.instrument.transport.derived import METHODS
from fibsims.instrument.transport.jsonvalues import MAX_DEPTH

PROTOCOL_MD = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"


def test_every_method_of_the_table_is_documented():
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    missing = [name for name in METHODS if f"`{name}`" not in text]
    assert not missing, f"add these to the method table of docs/protocol.md: {missing}"


def test_the_documented_nesting_bound_is_the_enforced_one():
    assert f"most {MAX_DEPTH} deep" in PROTOCOL_MD.read_text(encoding="utf-8")
