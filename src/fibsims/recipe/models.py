"""The recipe: what to cut and image, slice by slice (the *what*; the engine decides the *how*).

Every model is a ``RecipeModel`` (unknown keys are errors, frozen). Units live in the field
names and each field's description, so the JSON Schema documents itself.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from fibsims.recipe.base import RecipeModel
from fibsims.recipe.bounds import MAX_RUN_HOURS, MAX_SEED
from fibsims.recipe.fiducial import Fiducial
from fibsims.recipe.naming import name_clash, step_names
from fibsims.recipe.policy import ErrorPolicy, Suspenders
from fibsims.recipe.rules import rule as _rule
from fibsims.recipe.schedule import Schedule, ScheduledTask
from fibsims.recipe.sites import MAX_SITES, Site, site_problems
from fibsims.recipe.steps import MillStep, SliceStep
from fibsims.recipe.volume import Volume

__all__ = ["Schedule", "ScheduledTask"]  # re-exported: they were defined here before


class TwinSample(RecipeModel):
    """The digital-twin phantom to build when the run goes to the simulator."""

    phantom: Literal["nmc811"] = Field(description="phantom microstructure to generate")
    seed: int = Field(
        ge=0,
        le=MAX_SEED,
        description=f"random seed of the phantom, 0 to {MAX_SEED}; same seed, same sample",
    )
    porosity: float = Field(ge=0.05, le=0.6, description="pore volume fraction, 0.05 to 0.6")
    primaries: Literal["equiaxed", "radial"] = Field(
        default="equiaxed",
        description="primary grains: equiaxed, or radial (elongated along the particle radius)",
    )


class Sample(RecipeModel):
    """What is being sliced. ``twin`` is only needed for simulated runs; hardware ignores it."""

    name: str = Field(min_length=1, description="sample name, free text")
    twin: TwinSample | None = Field(
        default=None, description="phantom for the digital twin; leave out for hardware runs"
    )


class InstrumentSettings(RecipeModel):
    """Ion-column settings that hold for the whole run."""

    ion_species: Literal["Xe", "Ar", "O", "N"] = Field(
        description="plasma FIB source gas: Xe, Ar, O or N"
    )
    voltage_kv: float = Field(gt=0, le=30, description="ion accelerating voltage in kV, up to 30")
    stage_tilt_deg: float = Field(
        default=0.0,
        ge=-90,
        le=90,
        description="stage tilt in deg for the whole run, -90 to 90 (the rocking polish rotates "
        "about it); it sets the beam's incidence on the face and the trench floor, hence sputter "
        "and SE yields; 0 scans the face at normal incidence",
    )


class Limits(RecipeModel):
    """Guards the engine enforces so a run cannot go on unattended for ever."""

    max_hours: float = Field(
        default=48,
        gt=0,
        le=MAX_RUN_HOURS,
        description=f"stop the run after this many hours, up to {MAX_RUN_HOURS}",
    )


class Recipe(RecipeModel):
    """A slice-and-view recipe, version 1 of the language."""

    recipe: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="recipe name: lowercase letters, digits, '.', '_' or '-' (names run folders)",
    )
    version: Literal[1] = Field(description="recipe language version; this fibsims reads 1")
    description: str | None = Field(default=None, description="free text")
    sample: Sample = Field(description="what is sliced: its name, and the twin phantom")
    instrument: InstrumentSettings = Field(description="ion species and accelerating voltage")
    volume: Volume = Field(description="face size, slice thickness and number of slices")
    slice: list[SliceStep] = Field(
        min_length=1, description="steps run for every slice, in this order"
    )
    every: list[Schedule] = Field(
        default_factory=list,
        description="tasks or steps run only every N slices (autofocus, a SIMS raster...)",
    )
    fiducial: Fiducial | None = Field(
        default=None,
        description="marks milled before the first slice to correct drift and slice thickness",
    )
    limits: Limits = Field(default_factory=Limits, description="run time limits")
    suspenders: Suspenders = Field(
        default_factory=Suspenders,
        description="conditions watched during the run, and whether they wait or pause",
    )
    on_error: ErrorPolicy = Field(
        default_factory=ErrorPolicy, description="retries, optional steps, hardware faults"
    )
    sites: list[Site] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SITES,
        description=f"regions of interest run one after another, 1 to {MAX_SITES}, each at its "
        "own stage position with its own data and resume point (DIR/sites/<name>), sharing "
        "every other setting; leave out for a single region at the current stage position",
    )

    @model_serializer(mode="wrap")
    def _without_absent_sites(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A recipe without sites dumps as it did before sites existed, so run.json,
        run.h5 and the integrity check of older runs see the same recipe."""
        data = handler(self)
        if self.sites is None and isinstance(data, dict):
            data.pop("sites", None)
        return cast(dict[str, Any], data)

    @property
    def mill_step(self) -> MillStep:
        """The one mill step of the slice sequence (validation guarantees exactly one)."""
        return next(step for step in self.slice if isinstance(step, MillStep))

    def at_site(self, site: Site) -> Recipe:
        """The single-site recipe ``site`` runs: this one with the site's volume, no sites.
        Everything else is shared (validation has checked the site's volume against it)."""
        return self.model_copy(update={"volume": site.volume or self.volume, "sites": None})

    # A field validator, not a model validator: it runs whenever ``volume`` and ``slice`` are
    # valid, even if other fields are not, so one pass over a file reports every problem.
    @field_validator("slice")
    @classmethod
    def _one_mill_that_clears_the_face(
        cls, steps: list[SliceStep], info: ValidationInfo
    ) -> list[SliceStep]:
        """Exactly one mill per slice, and it must mill at least the height of the face."""
        mills = [i for i, step in enumerate(steps) if isinstance(step, MillStep)]
        if not mills:
            raise _rule(
                "",
                "no mill step: every slice needs exactly one mill step to cut it; add one, "
                "e.g. '- mill: {current_na: 15, depth_um: 18}'",
            )
        if len(mills) > 1:
            raise _rule(
                f"{mills[1]}.mill",
                f"a second mill step (the first is slice.{mills[0]}); each slice runs exactly "
                "one mill: remove one",
            )
        volume = info.data.get("volume")
        mill = cast(MillStep, steps[mills[0]])
        if volume is not None and mill.depth_um < volume.face_height_um:
            raise _rule(
                f"{mills[0]}.mill.depth_um",
                f"{mill.depth_um:g} um is shallower than the face "
                f"(volume.face_height_um is {volume.face_height_um:g} um), so the bottom of "
                f"the face is never cleared; set depth_um to at least "
                f"{volume.face_height_um:g} (a few um more is usual) or lower face_height_um",
            )
        return steps

    @field_validator("sites")
    @classmethod
    def _sites_apart_and_named_once(
        cls, sites: list[Site] | None, info: ValidationInfo
    ) -> list[Site] | None:
        """Unique folder-safe names, each face cleared by the mill, no two faces overlapping."""
        if sites is None:
            return None
        steps = info.data.get("slice")
        mills = [s for s in steps or () if isinstance(s, MillStep)]
        depth = mills[0].depth_um if len(mills) == 1 else None
        for at, message in site_problems(sites, info.data.get("volume"), depth):
            raise _rule(at, message)
        return sites

    @field_validator("slice")
    @classmethod
    def _slice_step_names_unique(cls, steps: list[SliceStep]) -> list[SliceStep]:
        """Each step's name names its product: two steps of one name would overwrite it."""
        clash = name_clash([(f"slice.{i}", s.kind, s.name) for i, s in enumerate(steps)])
        if clash is not None:
            i, message = clash
            raise _rule(f"{i}.{steps[i].kind}" + (".name" if steps[i].name else ""), message)
        return steps

    @field_validator("every")
    @classmethod
    def _scheduled_steps_named_and_placed(
        cls, schedules: list[Schedule], info: ValidationInfo
    ) -> list[Schedule]:
        """Scheduled steps' names unique among all steps; ``before:`` names a slice step."""
        steps: list[SliceStep] | None = info.data.get("slice")
        if steps is None:  # the slice list is invalid and reported on its own
            return schedules
        entries = [(f"slice.{i}", s.kind, s.name) for i, s in enumerate(steps)]
        scheduled = [(j, s.step) for j, s in enumerate(schedules) if s.step is not None]
        entries += [(f"every.{j}.do", step.kind, step.name) for j, step in scheduled]
        clash = name_clash(entries)
        if clash is not None:
            i, message = clash
            j, step = scheduled[i - len(steps)]
            raise _rule(f"{j}.do.{step.kind}" + (".name" if step.name else ""), message)
        names = step_names((s.kind, s.name) for s in steps)
        for j, schedule in enumerate(schedules):
            if schedule.before is None:
                continue
            if schedule.step is None:
                raise _rule(
                    f"{j}.before",
                    f"'{schedule.do}' is a task: it always runs just before the slice's first "
                    "imaging step; remove before:",
                )
            if schedule.before not in names:
                raise _rule(
                    f"{j}.before",
                    f"no slice step is called '{schedule.before}'; before: takes the name of a "
                    f"step in slice: ({', '.join(names)})",
                )
        return schedules
