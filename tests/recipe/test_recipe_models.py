"""The recipe models: what a valid recipe parses into, and how it dumps back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from fibsims.recipe import (
    STEP_TYPES,
    InstrumentSettings,
    Limits,
    MillStep,
    Recipe,
    RockingPolishStep,
    Sample,
    Schedule,
    SEImageStep,
    SimsRasterStep,
    Volume,
    describe,
    load_recipe,
    parse_recipe,
    recipe_json_schema,
)

EXAMPLE = Path(__file__).parent / "fixtures" / "nmc811-li-map.yaml"


@pytest.fixture
def example() -> Recipe:
    return load_recipe(EXAMPLE)


def test_the_brief_example_parses_into_step_models(example: Recipe) -> None:
    assert example.recipe == "nmc811-li-map"
    assert [type(step) for step in example.slice] == [
        MillStep,
        RockingPolishStep,
        SEImageStep,
        SimsRasterStep,
    ]
    mill, polish, se, sims = example.slice
    assert isinstance(mill, MillStep) and mill.depth_um == 18
    assert isinstance(polish, RockingPolishStep) and polish.angles_deg == [-20, 20]
    assert isinstance(se, SEImageStep) and se.resolution == (1536, 1024)
    assert isinstance(sims, SimsRasterStep)
    assert sims.peaks == ["6Li+", "7Li+", "55Mn+", "58Ni+", "59Co+"]
    assert example.sample.twin is not None and example.sample.twin.seed == 811
    assert example.every == [Schedule(slices=10, do="autofocus")]
    assert example.limits.max_hours == 30


def test_dumped_recipe_parses_back_to_the_same_recipe(example: Recipe) -> None:
    text = yaml.safe_dump(example.model_dump(mode="json"), sort_keys=False)
    assert parse_recipe(text) == example


def test_dump_writes_each_step_as_a_one_key_mapping(example: Recipe) -> None:
    dumped = example.model_dump(mode="json")["slice"]
    assert [list(item) for item in dumped] == [[kind] for kind in STEP_TYPES]
    assert dumped[0]["mill"]["current_na"] == 15


def test_a_step_dumped_alone_is_its_settings() -> None:
    assert MillStep(current_na=1, depth_um=2).model_dump()["current_na"] == 1


def test_step_kind_is_the_yaml_key() -> None:
    assert {kind: model.kind for kind, model in STEP_TYPES.items()} == {
        kind: kind for kind in ("mill", "rocking_polish", "se_image", "sims_raster")
    }


def test_a_recipe_built_in_python_takes_step_models() -> None:
    recipe = Recipe(
        recipe="py",
        version=1,
        sample=Sample(name="s"),
        instrument=InstrumentSettings(ion_species="Ar", voltage_kv=30),
        volume=Volume(face_width_um=10, face_height_um=5, slice_thickness_nm=20, slices=3),
        slice=[MillStep(current_na=1, depth_um=6)],
    )
    assert recipe.mill_step.depth_um == 6
    assert parse_recipe(yaml.safe_dump(recipe.model_dump(mode="json"))) == recipe


def test_defaults_fill_what_a_recipe_leaves_out(example: Recipe) -> None:
    mill = example.mill_step
    assert mill.pattern == "cleaning_cross_section"
    assert mill.pattern_height_um == 0.5
    assert mill.width_um is None
    assert Limits().max_hours == 48
    recipe = example.model_copy(update={"every": []})
    assert recipe.every == []


def test_a_recipe_without_a_twin_is_valid_for_hardware_runs() -> None:
    text = EXAMPLE.read_text().replace(
        "sample: {name: NMC811 cathode, twin: {phantom: nmc811, seed: 811, porosity: 0.30}}",
        "sample: {name: NMC811 cathode}",
    )
    assert parse_recipe(text).sample.twin is None


def test_picoamp_steps_also_give_their_current_in_nanoamps(example: Recipe) -> None:
    se, sims = example.slice[2], example.slice[3]
    assert isinstance(se, SEImageStep) and isinstance(sims, SimsRasterStep)
    assert se.current_na == pytest.approx(0.1)
    assert sims.current_na == pytest.approx(0.8)


def test_volume_depth_is_slices_times_thickness(example: Recipe) -> None:
    assert example.volume.depth_um == pytest.approx(10.0)


def test_a_loaded_recipe_cannot_be_changed(example: Recipe) -> None:
    with pytest.raises(ValidationError):
        example.recipe = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        example.mill_step.current_na = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("slices", "offset", "expected"),
    [
        (10, 0, [0, 10, 20, 30]),
        (10, 3, [3, 13, 23, 33]),
        (1, 0, list(range(35))),
        (7, 40, []),
    ],
)
def test_schedule_applies_to_offset_then_every_n_slices(
    slices: int, offset: int, expected: list[int]
) -> None:
    schedule = Schedule(slices=slices, do="autofocus", offset=offset)
    assert [i for i in range(35) if schedule.applies_to(i)] == expected


def test_describe_summarises_the_recipe_in_one_line(example: Recipe) -> None:
    assert describe(example) == (
        "nmc811-li-map: 400 slices x 25 nm over 20 x 15 um, 4 steps per slice "
        "(mill, rocking_polish, se_image, sims_raster), autofocus every 10"
    )


def test_describe_mentions_a_schedule_offset_and_omits_no_schedules(example: Recipe) -> None:
    offset = example.model_copy(update={"every": [Schedule(slices=5, do="autofocus", offset=2)]})
    assert describe(offset).endswith("autofocus every 5 from slice 2")
    assert describe(example.model_copy(update={"every": []})).endswith("sims_raster)")


def test_schema_describes_slice_items_in_their_yaml_form() -> None:
    schema = recipe_json_schema()
    choices = schema["properties"]["slice"]["items"]["oneOf"]
    assert [choice["required"] for choice in choices] == [[kind] for kind in STEP_TYPES]
    assert all(choice["additionalProperties"] is False for choice in choices)
    mill = schema["$defs"]["MillStep"]
    assert mill["additionalProperties"] is False
    assert "nA" in mill["properties"]["current_na"]["description"]
    assert schema["$schema"].startswith("https://json-schema.org/")


def test_schema_documents_every_field_with_a_description() -> None:
    schema = recipe_json_schema()
    undocumented = [
        f"{name}.{field}"
        for name, definition in schema["$defs"].items()
        for field, spec in definition["properties"].items()
        if not spec.get("description")
    ]
    assert undocumented == []
