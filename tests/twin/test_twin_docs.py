"""docs/physics.md lists every parameter of the twin, with its value and source or ASSUMED.

A source is an entry of the page's own Sources section, cited by its key in brackets
([Chen2020]), or an inline author-year citation; the docs never cite the team's private
reference folder, which users do not have.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fibsims_twin.parameters import TwinParameters

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DOC = DOCS / "physics.md"
# a source without a key: ASSUMED, a numerical choice, IUPAC, the format itself, a cited year
SOURCED = r"ASSUMED|numerical|IUPAC|image format|\(\d{4}\)"
# a key in brackets, not a Markdown link text ("[text](url)")
KEY = r"\[([A-Za-z][A-Za-z0-9.+-]*)\](?!\()"


def parameter_names() -> list[tuple[str, str]]:
    groups = TwinParameters()
    return [
        (group.name, f.name)
        for group in dataclasses.fields(groups)
        for f in dataclasses.fields(getattr(groups, group.name))
    ]


def sources_section(text: str) -> str:
    match = re.search(r"^## Sources\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, "docs/physics.md has no '## Sources' section"
    return match.group(1)


def source_keys(text: str) -> set[str]:
    """Keys defined by the Sources section: list items opening with **[Key]**."""
    return set(re.findall(r"^- \*\*\[([^\]]+)\]\*\*", sources_section(text), flags=re.M))


def test_sources_section_defines_keys() -> None:
    keys = source_keys(DOC.read_text())
    assert {"Chen2020", "Yamamura1996", "CIAAW", "AME2020", "TofDAQ"} <= keys


def test_every_cited_key_is_in_sources() -> None:
    text = DOC.read_text()
    body = text[: text.index("\n## Sources\n")]
    keys = source_keys(text)
    # a key is a capital and two more characters (E[V], an expectation, is not a key)
    cited = {k for k in re.findall(KEY, body) if re.fullmatch(r"[A-Z][A-Za-z0-9.+-]{2,}", k)}
    assert not cited - keys, f"keys cited but not in Sources: {sorted(cited - keys)}"


def test_every_parameter_has_a_row_with_a_source_or_assumed() -> None:
    text = DOC.read_text()
    keys = source_keys(text)
    rows = [line for line in text.splitlines() if line.startswith("|")]

    def sourced(row: str) -> bool:
        return bool(re.search(SOURCED, row)) or any(k in keys for k in re.findall(KEY, row))

    missing, unsourced = [], []
    for group, name in parameter_names():
        found = [row for row in rows if re.search(rf"`{name}`", row)]
        if not found:
            missing.append(f"{group}.{name}")
        elif not any(sourced(r) for r in found):
            unsourced.append(f"{group}.{name}")
    assert not missing, f"parameters without a row in docs/physics.md: {missing}"
    assert not unsourced, f"rows without a source key, ASSUMED or numerical: {unsourced}"


def test_docs_never_cite_the_private_reference() -> None:
    private = re.compile(r"shared reference|\.\./shared|/shared/reference|/work/shared", re.I)
    for path in [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not private.search(line), f"{path.name}:{number} cites the private folder"
    # docs/physics.md quotes its sources by key, never the private physics.md ("physics.md: ...",
    # "(physics.md)", "physics.md's"); a path to this page (docs/physics.md) is fine
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        assert not re.search(r"(?<![\w/])physics\.md", line), (
            f"docs/physics.md:{number} cites physics.md instead of a source key"
        )


def test_parameter_comments_cite_keys_not_the_private_reference() -> None:
    package = ROOT / "simulators" / "fibsims_twin" / "parameters"
    keys = source_keys(DOC.read_text())
    for path in sorted(package.glob("*.py")):
        text = path.read_text()
        assert not re.search(r"(?<![\w/])physics\.md|shared reference", text), path.name
        cited = {
            k for k in re.findall(KEY, text) if re.fullmatch(r"[A-Z][A-Za-z]+\d{4}|[A-Z]{3,}\w*", k)
        }
        assert not cited - keys, f"{path.name} cites keys not in Sources: {sorted(cited - keys)}"
