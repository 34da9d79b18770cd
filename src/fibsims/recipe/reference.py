"""The recipe reference (docs/recipes.md) and schema (docs/recipe.schema.json), from the models.

Why generated: a reference written by hand drifts from the models the day a field is added.
Every table row here comes from the JSON Schema pydantic makes of the models (type, default,
bounds, description), so the documentation says what the loader checks. The page's
hand-written introduction stays in docs/recipes.md; only the part between the markers is
replaced. A test fails when the committed files differ from what this module makes.

    python -m fibsims.recipe.reference          # rewrite both files in docs/
    python -m fibsims.recipe.reference --check  # exit 1 if either is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fibsims.recipe.schema import recipe_json_schema

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m fibsims.recipe.reference -->"
END = "<!-- END GENERATED REFERENCE -->"

SECTIONS: tuple[tuple[str, str], ...] = (
    ("Recipe", "The top level"),
    ("Sample", "sample"),
    ("TwinSample", "sample.twin"),
    ("InstrumentSettings", "instrument"),
    ("Volume", "volume"),
    ("MillStep", "slice: - mill"),
    ("RockingPolishStep", "slice: - rocking_polish"),
    ("SEImageStep", "slice: - se_image"),
    ("SimsRasterStep", "slice: - sims_raster"),
    ("Schedule", "every: - (a schedule)"),
    ("Fiducial", "fiducial"),
    ("Limits", "limits"),
    ("Suspenders", "suspenders"),
    ("BeamCurrentWatch", "suspenders.beam_current"),
    ("PressureWatch", "suspenders.chamber_pressure"),
    ("SaturationWatch", "suspenders.detector_saturation"),
    ("DiskWatch", "suspenders.free_disk"),
    ("ErrorPolicy", "on_error"),
)
"""Each model's section, in the order a recipe reads; a model missing here is still listed
(after these), so a new model cannot be left out of the reference."""

UNITS = {
    "_um": "um",
    "_nm": "nm",
    "_na": "nA",
    "_us": "us",
    "_kv": "kV",
    "_deg": "deg",
    "_hours": "h",
    "_s": "s",
}


def unit(name: str) -> str:
    """The unit a field's name carries (``current_pa`` pA, but ``max_pa`` Pa)."""
    if name.endswith("_pa"):
        return "pA" if "current" in name else "Pa"
    return next((u for suffix, u in UNITS.items() if name.endswith(suffix)), "")


def _kind(prop: dict[str, Any]) -> str:
    """A field's type as a recipe author writes it."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[mapping](#{name.lower()})"
    if "anyOf" in prop:
        kinds = [_kind(p) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(kinds)
    if "oneOf" in prop:
        words = [f"`{p['const']}`" for p in prop["oneOf"] if "const" in p]
        steps = [f"`{p['title']}` step" for p in prop["oneOf"] if "title" in p]
        return " or ".join(words + steps)
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    kind = prop.get("type", "")
    if kind == "array":
        if "prefixItems" in prop:
            return f"[{', '.join(_kind(p) for p in prop['prefixItems'])}]"
        items = prop.get("items", {})
        if "oneOf" in items:
            return "list of steps"
        return f"list of {_kind(items)}"
    return {"number": "number", "integer": "integer", "string": "text", "boolean": "yes/no"}.get(
        kind, kind or "any"
    )


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _count(least: int | None, most: int | None, noun: str) -> str:
    if most is None:
        return f"at least {least} {noun}"
    return f"up to {most} {noun}" if not least else f"{least} to {most} {noun}"


def _bounds(prop: dict[str, Any]) -> str:
    """Bounds of a value (or of each item of a list), from its schema."""
    for key in ("anyOf",):
        if key in prop:
            found = [_bounds(p) for p in prop[key] if p.get("type") != "null"]
            return "; ".join(b for b in found if b)
    parts = []
    if "minimum" in prop:
        parts.append(f">= {_number(prop['minimum'])}")
    if "exclusiveMinimum" in prop:
        parts.append(f"> {_number(prop['exclusiveMinimum'])}")
    if "maximum" in prop:
        parts.append(f"<= {_number(prop['maximum'])}")
    if "exclusiveMaximum" in prop:
        parts.append(f"< {_number(prop['exclusiveMaximum'])}")
    if "minLength" in prop or "maxLength" in prop:
        parts.append(_count(prop.get("minLength"), prop.get("maxLength"), "characters"))
    if "pattern" in prop:
        parts.append(f"matches `{prop['pattern']}`")
    if prop.get("type") == "array" and "prefixItems" not in prop:
        if "minItems" in prop or "maxItems" in prop:
            parts.append(_count(prop.get("minItems"), prop.get("maxItems"), "items"))
        items = _bounds(prop.get("items", {}))
        if items:
            parts.append(f"each {items}")
    if "prefixItems" in prop:
        items = {_bounds(p) for p in prop["prefixItems"]}
        if len(items) == 1 and items != {""}:
            parts.append(f"each {items.pop()}")
    if prop.get("uniqueItems"):
        parts.append("no repeats")
    return ", ".join(parts)


def _default(name: str, prop: dict[str, Any], required: set[str]) -> str:
    if name in required:
        return "required"
    if "default" not in prop:  # a default made by a factory: an empty list, or the model's
        return "see below" if "$ref" in prop else "empty"
    value = prop["default"]
    if value is None:
        return "none"
    if value == [] or value == {}:
        return "empty"
    return f"`{json.dumps(value)}`" if not isinstance(value, str) else f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: dict[str, Any]) -> list[str]:
    required = set(model.get("required", []))
    lines = [
        "| field | type | unit | default | bounds | what it is |",
        "|---|---|---|---|---|---|",
    ]
    for name, prop in model.get("properties", {}).items():
        row = [
            f"`{name}`",
            _kind(prop),
            unit(name),
            _default(name, prop, required),
            _bounds(prop),
            prop.get("description", ""),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def reference_markdown(schema: dict[str, Any] | None = None) -> str:
    """The generated part of docs/recipes.md: one section and table per model."""
    schema = schema or recipe_json_schema()
    defs = dict(schema.get("$defs", {}))
    defs["Recipe"] = schema
    order = [name for name, _ in SECTIONS] + sorted(set(defs) - {n for n, _ in SECTIONS})
    where = dict(SECTIONS)
    out: list[str] = []
    for name in order:
        model = defs.get(name)
        if model is None:
            continue
        out += [f'<a id="{name.lower()}"></a>', f"### `{where.get(name, name)}`", ""]
        doc = " ".join(str(model.get("description", "")).split())
        if doc:
            out += [doc, ""]
        out += [*_table(model), ""]
    return "\n".join(out)


def schema_text() -> str:
    """docs/recipe.schema.json as committed: the schema, indented, ending in a newline."""
    return json.dumps(recipe_json_schema(), indent=2) + "\n"


def page_with_reference(page: str) -> str:
    """``page`` (docs/recipes.md) with the part between the markers made anew."""
    if BEGIN not in page or END not in page:
        raise ValueError(f"the page has no '{BEGIN}' ... '{END}' markers to fill")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{reference_markdown()}\n{END}{tail}"


def main(argv: list[str] | None = None, docs: Path | None = None) -> int:
    """Rewrite docs/recipes.md's reference and docs/recipe.schema.json; with ``--check``,
    only say whether they are current (exit 1 when not)."""
    args = sys.argv[1:] if argv is None else argv
    folder = docs or Path(__file__).resolve().parents[3] / "docs"
    page_path, schema_path = folder / "recipes.md", folder / "recipe.schema.json"
    wanted = {
        page_path: page_with_reference(page_path.read_text(encoding="utf-8")),
        schema_path: schema_text(),
    }
    stale = [
        path
        for path, text in wanted.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if "--check" in args:
        for path in stale:
            print(f"{path} is out of date: run python -m fibsims.recipe.reference")
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
