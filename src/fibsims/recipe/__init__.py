"""fibsims.recipe: the YAML recipe language (what to slice and image, not how).

Depends only on the standard library, pydantic and PyYAML; it is independent of
``fibsims.instrument`` (the two are peers at the bottom of the layer stack).
"""

from fibsims.recipe.bounds import MAX_SEED
from fibsims.recipe.errors import Problem, RecipeError
from fibsims.recipe.fiducial import Fiducial
from fibsims.recipe.loader import load_recipe, parse_recipe
from fibsims.recipe.models import (
    InstrumentSettings,
    Limits,
    Recipe,
    Sample,
    Schedule,
    ScheduledTask,
    TwinSample,
    Volume,
)
from fibsims.recipe.overrides import Override, parse_overrides
from fibsims.recipe.policy import ErrorPolicy, Suspenders
from fibsims.recipe.schema import recipe_json_schema
from fibsims.recipe.sites import Site, SiteStage
from fibsims.recipe.steps import (
    PEAK_LABEL_PATTERN,
    STEP_TYPES,
    MillStep,
    RockingPolishStep,
    SEImageStep,
    SimsRasterStep,
    SliceStep,
    StepBase,
)
from fibsims.recipe.summary import describe

__all__ = [
    "MAX_SEED",
    "PEAK_LABEL_PATTERN",
    "STEP_TYPES",
    "ErrorPolicy",
    "Fiducial",
    "InstrumentSettings",
    "Limits",
    "MillStep",
    "Override",
    "Problem",
    "Recipe",
    "RecipeError",
    "RockingPolishStep",
    "SEImageStep",
    "Sample",
    "Schedule",
    "ScheduledTask",
    "SimsRasterStep",
    "Site",
    "SiteStage",
    "SliceStep",
    "StepBase",
    "Suspenders",
    "TwinSample",
    "Volume",
    "describe",
    "load_recipe",
    "parse_overrides",
    "parse_recipe",
    "recipe_json_schema",
]
