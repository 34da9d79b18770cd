"""Property tests: valid settings always load and round-trip; no input ever escapes as a crash."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fibsims.recipe import MAX_SEED, Recipe, RecipeError, parse_recipe
from fibsims.recipe.bounds import MAX_RUN_HOURS


def floats(low: float, high: float, *, exclude_low: bool = False) -> st.SearchStrategy[float]:
    return st.floats(low, high, exclude_min=exclude_low, allow_nan=False, allow_infinity=False)


positive = floats(0, 1000, exclude_low=True)
picoamps = floats(1, 1000)  # a FIB column's currents start at about 1 pA
dwell = floats(0.025, 10000)


@st.composite
def recipe_documents(draw: st.DrawFn) -> dict[str, Any]:
    face_height = draw(floats(0, 500, exclude_low=True))
    polarity = draw(st.sampled_from(["positive", "negative"]))
    sign = "+" if polarity == "positive" else "-"
    peaks = draw(
        st.lists(
            st.tuples(st.integers(1, 999), st.sampled_from(["Li", "O", "Ni", "Co", "Mn", "F"])),
            min_size=1,
            max_size=64,
            unique=True,
        )
    )
    return {
        "recipe": draw(st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z")),
        "version": 1,
        "sample": {
            "name": "sample",
            "twin": {
                "phantom": "nmc811",
                "seed": draw(st.integers(0, MAX_SEED)),
                "porosity": draw(floats(0.05, 0.6)),
            },
        },
        "instrument": {
            "ion_species": draw(st.sampled_from(["Xe", "Ar", "O", "N"])),
            "voltage_kv": draw(floats(0, 30, exclude_low=True)),
        },
        "volume": {
            "face_width_um": draw(floats(0, 500, exclude_low=True)),
            "face_height_um": face_height,
            "slice_thickness_nm": draw(floats(1, 1000)),
            "slices": draw(st.integers(1, 100000)),
        },
        "slice": [
            {
                "mill": {
                    "current_na": draw(positive),
                    "depth_um": face_height + draw(floats(0, 50)),
                    "pattern_height_um": draw(positive),
                }
            },
            {
                "rocking_polish": {
                    "current_na": draw(positive),
                    "angles_deg": draw(st.lists(floats(-45, 45), min_size=1, max_size=8)),
                    "passes": draw(st.integers(1, 10)),
                }
            },
            {
                "se_image": {
                    "current_pa": draw(picoamps),
                    "resolution": draw(st.lists(st.integers(16, 8192), min_size=2, max_size=2)),
                    "dwell_us": draw(dwell),
                }
            },
            {
                "sims_raster": {
                    "current_pa": draw(picoamps),
                    "resolution": draw(st.lists(st.integers(8, 2048), min_size=2, max_size=2)),
                    "dwell_us": draw(dwell),
                    "frames": draw(st.integers(1, 1000)),
                    "polarity": polarity,
                    "peaks": [f"{mass}{element}{sign}" for mass, element in peaks],
                }
            },
        ],
        "every": [
            {
                "slices": draw(st.integers(1, 1000)),
                "do": "autofocus",
                "offset": draw(st.integers(0, 99)),
            }
        ],
        "limits": {"max_hours": draw(floats(0, MAX_RUN_HOURS, exclude_low=True))},
    }


@given(recipe_documents())
@settings(max_examples=150, deadline=None)
def test_valid_settings_always_parse_and_round_trip(document: dict[str, Any]) -> None:
    recipe = parse_recipe(yaml.safe_dump(document))
    assert recipe.volume.slices == document["volume"]["slices"]
    dumped = yaml.safe_dump(recipe.model_dump(mode="json"))
    assert parse_recipe(dumped) == recipe
    assert Recipe.model_validate(recipe.model_dump()) == recipe


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["recipe", "version", "slice", "mill", "volume", "slices", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(yaml_values)
@settings(max_examples=200, deadline=None)
def test_any_yaml_data_gives_a_recipe_or_a_recipe_error(data: Any) -> None:
    try:
        parse_recipe(yaml.safe_dump(data))
    except RecipeError as exc:
        assert exc.problems
        assert all(str(problem) for problem in exc.problems)


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_a_recipe_or_a_recipe_error(text: str) -> None:
    try:
        parse_recipe(text)
    except RecipeError as exc:
        assert exc.problems
