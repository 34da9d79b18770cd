"""The per-slice steps a recipe can run, and the one-key-mapping union that holds them.

In YAML a step is a one-key mapping, ``- mill: {current_na: 15, depth_um: 18}``, because that
reads like the instrument log a scientist already keeps. Inside Python the recipe holds the step
models themselves (``recipe.slice[0]`` is a ``MillStep``), so the engine dispatches on type, not
on string keys. ``SliceStep`` converts between the two: a callable discriminator picks the model
from the mapping's single key, a before-validator unwraps the settings, a serializer wraps them
again, and a JSON-Schema hook documents the YAML form. Because the union is tagged, pydantic puts
the step kind into every error location (``slice.0.mill.current_na``), which is exactly the path
in the YAML file, so the loader can find the line.

To add a step kind: write its model with a ``kind`` class variable, add it to ``STEP_TYPES``
and to the ``SliceStep`` union.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    WrapSerializer,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import (
    MAX_BEAM_CURRENT_NA,
    MAX_BEAM_CURRENT_PA,
    MAX_FIELD_OF_VIEW_UM,
    MAX_FRAMES,
    MAX_POLISH_PASSES,
    MIN_BEAM_CURRENT_PA,
)
from fibsims.recipe.naming import MAX_STEP_NAME_CHARS, RESERVED_NAMES, STEP_NAME_PATTERN
from fibsims.recipe.scan_field import (
    CenterUm,
    check_field,
    field_center,
    field_height,
    field_width,
)

PEAK_LABEL_PATTERN = r"^\d{1,3}[A-Z][a-z]?[+-]$"
"""A secondary-ion peak label: mass number, element symbol, charge sign (``7Li+``, ``16O-``).

Checked by format only: the recipe layer does not import the instrument's isotope table (the two
layers are independent); the engine or the instrument refuses a label it has no data for.
"""

_PEAK_LABEL = re.compile(PEAK_LABEL_PATTERN)

_TOP_CURRENT = "the most a plasma FIB column gives"
BEAM_CURRENT_NA = f"a beam current in nA, up to {MAX_BEAM_CURRENT_NA}, {_TOP_CURRENT}"
BEAM_CURRENT_PA = (
    f"a beam current in pA, {MIN_BEAM_CURRENT_PA} (a FIB column's smallest) to "
    f"{MAX_BEAM_CURRENT_PA}, {_TOP_CURRENT}; 0.1 nA is 100 pA"
)
DWELL_US = "dwell time per pixel in microseconds (0.025 to 10000)"
UP_TO_FIELD_OF_VIEW = f"up to {MAX_FIELD_OF_VIEW_UM} (the widest field of view)"

SEPixels = Annotated[int, Field(ge=16, le=8192)]
SimsPixels = Annotated[int, Field(ge=8, le=2048)]
PolishAngle = Annotated[float, Field(ge=-45, le=45)]
PeakLabel = Annotated[str, Field(pattern=PEAK_LABEL_PATTERN)]


STEP_NAME = (
    "the step's name, which names its product in every file and event: lowercase letters, "
    f"digits and '_', starting with a letter, up to {MAX_STEP_NAME_CHARS} characters, unique "
    "in the recipe; leave out for the kind "
    "(the Nth step of a kind without a name is <kind>_N)"
)


class StepBase(RecipeModel):
    """Base of the step models; ``kind`` is the step's YAML key."""

    kind: ClassVar[str]
    """The YAML key of this step kind."""

    name: str | None = Field(
        default=None,
        pattern=STEP_NAME_PATTERN,
        max_length=MAX_STEP_NAME_CHARS,
        description=STEP_NAME,
    )

    @field_validator("name")
    @classmethod
    def _not_a_reserved_name(cls, name: str | None) -> str | None:
        """run.h5 holds its tables and NeXus fields beside the products, under these names."""
        if name in RESERVED_NAMES:
            raise PydanticCustomError(
                "step_name_reserved",
                "'{name}' is taken by the run file or a task of that name; choose another "
                "name, e.g. '{name}_{kind}'",
                {"name": name, "kind": cls.kind},
            )
        return name


class MillStep(StepBase):
    """Mill the next slice off the face with the ion beam (the 'slice' in slice-and-view)."""

    kind: ClassVar[str] = "mill"

    current_na: float = Field(gt=0, le=MAX_BEAM_CURRENT_NA, description=BEAM_CURRENT_NA)
    pattern: Literal["cleaning_cross_section", "box"] = Field(
        default="cleaning_cross_section",
        description="pattern shape: cleaning_cross_section (line by line toward the face) or box",
    )
    depth_um: float = Field(
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"milling depth in um down the face, {UP_TO_FIELD_OF_VIEW}; at least the face height"
        ),
    )
    pattern_height_um: float = Field(
        default=0.5,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=(
            f"pattern extent in um along the slicing axis, {UP_TO_FIELD_OF_VIEW}; the beam "
            "dwells over the whole footprint, so the mill time follows the pattern volume"
        ),
    )
    width_um: float | None = Field(
        default=None,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=f"pattern width in um, {UP_TO_FIELD_OF_VIEW}; leave out to use the face width",
    )


class RockingPolishStep(StepBase):
    """Polish the fresh face at several stage rotations to remove curtaining."""

    kind: ClassVar[str] = "rocking_polish"

    current_na: float = Field(gt=0, le=MAX_BEAM_CURRENT_NA, description=BEAM_CURRENT_NA)
    angles_deg: list[PolishAngle] = Field(
        min_length=1,
        max_length=8,
        description="rocking angles in degrees about the face normal, each -45 to 45",
    )
    passes: int = Field(
        default=1,
        ge=1,
        le=MAX_POLISH_PASSES,
        description=f"passes over all the angles, 1 to {MAX_POLISH_PASSES}",
    )
    pattern_height_um: float = Field(
        default=0.1,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=f"pattern extent in um along the slicing axis, {UP_TO_FIELD_OF_VIEW}",
    )
    depth_um: float | None = Field(
        default=None,
        gt=0,
        le=MAX_FIELD_OF_VIEW_UM,
        description=f"polish depth in um, {UP_TO_FIELD_OF_VIEW}; leave out to use the mill depth",
    )


class SEImageStep(StepBase):
    """Image the fresh face by the secondary electrons the FIB's ion beam knocks out of it.

    An ion-induced SE image: the scanning beam is the ion column's, at an imaging current, not
    an electron column's (a plasma FIB-SIMS needs none), so imaging also sputters the face."""

    kind: ClassVar[str] = "se_image"

    current_pa: float = Field(
        ge=MIN_BEAM_CURRENT_PA, le=MAX_BEAM_CURRENT_PA, description=BEAM_CURRENT_PA
    )
    resolution: tuple[SEPixels, SEPixels] = Field(
        description="image size in pixels, [width, height], each 16 to 8192"
    )
    dwell_us: float = Field(ge=0.025, le=10000, description=DWELL_US)
    frames: int = Field(
        default=1,
        ge=1,
        le=MAX_FRAMES,
        description=(
            f"frames summed into the image, 1 to {MAX_FRAMES}: counts add over frames "
            "(clipped at 65535, the clipped fraction recorded), so the noise falls as "
            "1/sqrt(frames) and the time and the face's erosion grow with them"
        ),
    )
    field_width_um: float | None = field_width()
    field_height_um: float | None = field_height()
    field_center_um: tuple[CenterUm, CenterUm] = field_center()

    @model_validator(mode="after")
    def _field_fits_the_resolution(self) -> SEImageStep:
        check_field(self)
        return self

    @property
    def current_na(self) -> float:
        """The beam current in nA, so the engine can treat every step's current alike."""
        return self.current_pa / 1000


class SimsRasterStep(StepBase):
    """Raster the ion beam over the face and record secondary-ion spectra with the ToF."""

    kind: ClassVar[str] = "sims_raster"

    current_pa: float = Field(
        ge=MIN_BEAM_CURRENT_PA, le=MAX_BEAM_CURRENT_PA, description=BEAM_CURRENT_PA
    )
    resolution: tuple[SimsPixels, SimsPixels] = Field(
        description="raster size in pixels, [width, height], each 8 to 2048"
    )
    dwell_us: float = Field(ge=0.025, le=10000, description=DWELL_US)
    frames: int = Field(
        ge=1,
        le=MAX_FRAMES,
        description=(
            f"raster frames summed into the slice's maps and spectrum, 1 to {MAX_FRAMES}: "
            "ion counts add over frames, and each frame sputters the face further"
        ),
    )
    polarity: Literal["positive", "negative"] = Field(
        default="positive", description="secondary-ion polarity the ToF extracts"
    )
    peaks: list[PeakLabel] = Field(
        min_length=1,
        max_length=64,
        description=(
            "peaks to map, each as mass number, element and charge sign, e.g. 7Li+ or 16O-; "
            "the sign must match the polarity"
        ),
        json_schema_extra={"uniqueItems": True},
    )
    field_width_um: float | None = field_width()
    field_height_um: float | None = field_height()
    field_center_um: tuple[CenterUm, CenterUm] = field_center()

    @model_validator(mode="after")
    def _field_fits_the_resolution(self) -> SimsRasterStep:
        check_field(self)
        return self

    @field_validator("peaks")
    @classmethod
    def _peaks_unique_and_of_the_polarity(cls, peaks: list[str], info: ValidationInfo) -> list[str]:
        """Each peak once, and every sign the one the ToF extracts (it sees one polarity)."""
        repeated = sorted({p for p in peaks if peaks.count(p) > 1})
        if repeated:
            raise PydanticCustomError(
                "peaks_repeated",
                "lists {repeated} more than once; give each peak once",
                {"repeated": ", ".join(repeated)},
            )
        polarity = info.data.get("polarity")
        if polarity is None:  # the polarity itself is invalid and reported on its own
            return peaks
        sign = "+" if polarity == "positive" else "-"
        wrong = [p for p in peaks if _PEAK_LABEL.match(p) and not p.endswith(sign)]
        if wrong:
            raise PydanticCustomError(
                "peak_polarity",
                "{wrong} cannot be seen with polarity {polarity}: the ToF extracts only "
                "{polarity} ions, so every label must end in '{sign}'; fix the labels or set "
                "polarity: {other}",
                {
                    "wrong": ", ".join(wrong),
                    "polarity": polarity,
                    "sign": sign,
                    "other": "negative" if polarity == "positive" else "positive",
                },
            )
        return peaks

    @property
    def current_na(self) -> float:
        """The beam current in nA, so the engine can treat every step's current alike."""
        return self.current_pa / 1000


STEP_TYPES: dict[str, type[StepBase]] = {
    step.kind: step for step in (MillStep, RockingPolishStep, SEImageStep, SimsRasterStep)
}
"""Every step model by its YAML key, in the order the documentation lists them."""


def step_kind_of(value: Any, kinds: Mapping[str, Any] = STEP_TYPES) -> str | None:
    """The step kind of a YAML one-key mapping (or of a step model) if it is one of ``kinds``;
    None otherwise."""
    if isinstance(value, StepBase):
        return value.kind if value.kind in kinds else None
    if isinstance(value, Mapping) and len(value) == 1:
        (key,) = value
        if key in kinds:
            return str(key)
    return None


def _unwrap(value: Any) -> Any:
    """``{mill: {...}}`` -> ``{...}``; a step model passes through unchanged."""
    if isinstance(value, Mapping) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _wrap(step: StepBase, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
    """Dump a step in its YAML form, ``{kind: settings}``, so a dumped recipe loads again."""
    return {step.kind: handler(step)}


class _OneKeyMapping:
    """JSON Schema of the YAML form of one step kind: a mapping whose single key is the kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "title": self.kind,
            "properties": {self.kind: handler(core_schema)},
            "required": [self.kind],
            "additionalProperties": False,
        }


def step_choice(step: type[StepBase]) -> Any:
    """One member of a union of steps in their YAML form, tagged with its kind (so errors are
    located ``...<kind>.<field>``, the path in the YAML file)."""
    return Annotated[step, BeforeValidator(_unwrap), _OneKeyMapping(step.kind), Tag(step.kind)]


def wrap_step(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    """Dump a step as ``{kind: settings}``; anything else (a task's name) as it is."""
    return _wrap(value, handler) if isinstance(value, StepBase) else handler(value)


if TYPE_CHECKING:  # what the models hold; the runtime form below adds the YAML machinery
    SliceStep = MillStep | RockingPolishStep | SEImageStep | SimsRasterStep
else:
    SliceStep = Annotated[
        step_choice(MillStep)
        | step_choice(RockingPolishStep)
        | step_choice(SEImageStep)
        | step_choice(SimsRasterStep),
        Discriminator(
            step_kind_of,
            custom_error_type="slice_step_kind",
            custom_error_message=(
                "a slice step is a mapping with exactly one key, the step kind; allowed: {allowed}"
            ),
            custom_error_context={"allowed": ", ".join(STEP_TYPES)},
        ),
        WrapSerializer(_wrap),
    ]
"""One step of the per-slice sequence: a ``MillStep``, ``RockingPolishStep``, ``SEImageStep`` or
``SimsRasterStep``; written in YAML as ``{kind: settings}``."""
