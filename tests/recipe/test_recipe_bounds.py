"""Upper bounds: every number a recipe gives has one an instrument could honour, refused past it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibsims.recipe import (
    MAX_SEED,
    STEP_TYPES,
    Problem,
    RecipeError,
    parse_recipe,
    recipe_json_schema,
)
from fibsims.recipe.bounds import (
    MAX_BEAM_CURRENT_NA,
    MAX_BEAM_CURRENT_PA,
    MAX_CHAMBER_PRESSURE_PA,
    MAX_DISK_MARGIN,
    MAX_FIELD_OF_VIEW_UM,
    MAX_FRAMES,
    MAX_POLISH_PASSES,
    MAX_POLL_S,
    MAX_RETRY_BACKOFF_S,
    MAX_RUN_HOURS,
    MAX_SLICES,
    MAX_WAIT_S,
)
from fibsims.recipe.messages import show

# Block style, one setting a line, every line distinct: a test names the line it changes.
BASE = """\
recipe: bounds
version: 1
sample:
  name: NMC811 cathode
  twin:
    phantom: nmc811
    seed: 811
    porosity: 0.3
instrument: {ion_species: Xe, voltage_kv: 30}
volume:
  face_width_um: 20
  face_height_um: 15
  slice_thickness_nm: 25
  slices: 400
slice:
  - mill:
      current_na: 15
      depth_um: 18
      pattern_height_um: 0.5
      width_um: 20
  - rocking_polish:
      current_na: 4
      angles_deg: [-20, 20]
      passes: 1
      pattern_height_um: 0.1
      depth_um: 17
  - se_image:
      current_pa: 100
      resolution: [1536, 1024]
      dwell_us: 3
      frames: 2
      field_width_um: 20
  - sims_raster:
      current_pa: 800
      resolution: [256, 256]
      dwell_us: 50
      frames: 20
      peaks: [6Li+, 7Li+]
      field_width_um: 19
every:
  - slices: 10
    do: autofocus
    offset: 0
limits:
  max_hours: 30
suspenders:
  beam_current:
    poll_s: 60
    max_wait_s: 7200
  chamber_pressure:
    max_pa: 0.001
    poll_s: 30
    max_wait_s: 3600
  free_disk:
    margin: 1.2
on_error:
  retry_backoff_s: 5
"""

BOUNDS = [
    ("sample.twin.seed", "    seed: 811", MAX_SEED),
    ("volume.slices", "  slices: 400", MAX_SLICES),
    ("slice.0.mill.current_na", "      current_na: 15", MAX_BEAM_CURRENT_NA),
    ("slice.0.mill.depth_um", "      depth_um: 18", MAX_FIELD_OF_VIEW_UM),
    ("slice.0.mill.pattern_height_um", "      pattern_height_um: 0.5", MAX_FIELD_OF_VIEW_UM),
    ("slice.0.mill.width_um", "      width_um: 20", MAX_FIELD_OF_VIEW_UM),
    ("slice.1.rocking_polish.current_na", "      current_na: 4", MAX_BEAM_CURRENT_NA),
    ("slice.1.rocking_polish.passes", "      passes: 1", MAX_POLISH_PASSES),
    (
        "slice.1.rocking_polish.pattern_height_um",
        "      pattern_height_um: 0.1",
        MAX_FIELD_OF_VIEW_UM,
    ),
    ("slice.1.rocking_polish.depth_um", "      depth_um: 17", MAX_FIELD_OF_VIEW_UM),
    ("slice.2.se_image.current_pa", "      current_pa: 100", MAX_BEAM_CURRENT_PA),
    ("slice.2.se_image.frames", "      frames: 2", MAX_FRAMES),
    ("slice.2.se_image.field_width_um", "      field_width_um: 20", MAX_FIELD_OF_VIEW_UM),
    ("slice.3.sims_raster.current_pa", "      current_pa: 800", MAX_BEAM_CURRENT_PA),
    ("slice.3.sims_raster.frames", "      frames: 20", MAX_FRAMES),
    ("slice.3.sims_raster.field_width_um", "      field_width_um: 19", MAX_FIELD_OF_VIEW_UM),
    ("every.0.slices", "  - slices: 10", MAX_SLICES),
    ("every.0.offset", "    offset: 0", MAX_SLICES),
    ("limits.max_hours", "  max_hours: 30", MAX_RUN_HOURS),
    ("suspenders.beam_current.poll_s", "    poll_s: 60", MAX_POLL_S),
    ("suspenders.beam_current.max_wait_s", "    max_wait_s: 7200", MAX_WAIT_S),
    ("suspenders.chamber_pressure.max_pa", "    max_pa: 0.001", MAX_CHAMBER_PRESSURE_PA),
    ("suspenders.chamber_pressure.poll_s", "    poll_s: 30", MAX_POLL_S),
    ("suspenders.chamber_pressure.max_wait_s", "    max_wait_s: 3600", MAX_WAIT_S),
    ("suspenders.free_disk.margin", "    margin: 1.2", MAX_DISK_MARGIN),
    ("on_error.retry_backoff_s", "  retry_backoff_s: 5", MAX_RETRY_BACKOFF_S),
]


def set_line(line: str, value: object) -> tuple[str, int]:
    """BASE with ``line`` (a whole line) given ``value``, and that line's 1-based number."""
    lines = BASE.splitlines()
    assert lines.count(line) == 1, line
    number = lines.index(line)
    lines[number] = f"{line.split(':')[0]}: {value}"
    return "\n".join(lines) + "\n", number + 1


def only_problem(text: str) -> Problem:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, source="bounds.yaml")
    found = caught.value.problems
    assert len(found) == 1, [str(problem) for problem in found]
    return found[0]


def test_the_base_recipe_of_these_tests_is_valid() -> None:
    assert parse_recipe(BASE).recipe == "bounds"


@pytest.mark.parametrize(("path", "line", "bound"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_a_value_past_its_bound_is_refused_naming_field_line_and_bound(
    path: str, line: str, bound: float
) -> None:
    text, number = set_line(line, bound + 1)
    problem = only_problem(text)
    assert str(problem).startswith(
        f"{path} (line {number}): must be at most {show(bound)} (got {show(bound + 1)}); "
    )
    description = problem.message.split("; ", 1)[1]
    assert show(bound) in description  # the message (and the schema) says the range


@pytest.mark.parametrize(("path", "line", "bound"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_a_value_at_its_bound_is_accepted(path: str, line: str, bound: float) -> None:
    text, _ = set_line(line, bound)
    value: Any = parse_recipe(text)
    for part in path.split("."):
        if part.isdigit():
            value = value[int(part)]
        elif part not in STEP_TYPES:  # the recipe holds the step models themselves
            value = getattr(value, part)
    assert value == bound


@pytest.mark.parametrize(
    ("line", "value", "path"),
    [
        ("      passes: 1", 1_000_000_000_000, "slice.1.rocking_polish.passes"),
        ("      frames: 20", 1_000_000_000, "slice.3.sims_raster.frames"),
        ("    seed: 811", 9223372036854775808, "sample.twin.seed"),
        ("      current_na: 15", 1e6, "slice.0.mill.current_na"),
    ],
)
def test_the_reported_absurd_values_are_refused_at_load(line: str, value: float, path: str) -> None:
    text, number = set_line(line, value)
    problem = only_problem(text)
    assert (problem.path, problem.line) == (path, number)
    assert problem.message.startswith("must be at most")


@given(st.integers(0, MAX_SEED))
@settings(max_examples=100, deadline=None)
def test_any_seed_from_0_to_max_seed_validates(seed: int) -> None:
    text, _ = set_line("    seed: 811", seed)
    twin = parse_recipe(text).sample.twin
    assert twin is not None and twin.seed == seed


@given(st.integers(MAX_SEED + 1, 2**200))
@settings(max_examples=50, deadline=None)
def test_any_seed_past_max_seed_is_refused(seed: int) -> None:
    text, number = set_line("    seed: 811", seed)
    problem = only_problem(text)
    assert (problem.path, problem.line) == ("sample.twin.seed", number)


def test_max_seed_is_the_largest_seed_the_twin_hashes() -> None:
    hashing = pytest.importorskip("fibsims_twin.hashing")
    assert 0 <= hashing.uniform(MAX_SEED, "bounds-test", 1)[()] < 1
    with pytest.raises(OverflowError):
        hashing.uniform(MAX_SEED + 1, "bounds-test", 1)


def _numeric_schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The number schemas of a property: itself, its optional form, its list or tuple items."""
    found = []
    for part in [spec, *spec.get("anyOf", []), *spec.get("prefixItems", [])]:
        if part.get("type") in ("number", "integer") and "const" not in part:
            found.append(part)
        items = part.get("items")
        if isinstance(items, dict) and items.get("type") in ("number", "integer"):
            found.append(items)
    return found


def test_every_number_in_the_schema_has_a_maximum_its_description_states() -> None:
    schema = recipe_json_schema()
    models = {"Recipe": schema, **schema["$defs"]}
    unbounded, unstated = [], []
    for model, definition in models.items():
        for name, spec in definition["properties"].items():
            for number in _numeric_schemas(spec):
                if "maximum" not in number and "exclusiveMaximum" not in number:
                    unbounded.append(f"{model}.{name}")
                elif show(number.get("maximum", number.get("exclusiveMaximum"))) not in spec.get(
                    "description", ""
                ):
                    unstated.append(f"{model}.{name}")
    assert (unbounded, unstated) == ([], [])
