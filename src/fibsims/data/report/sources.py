"""Which products of a run the report reads: the SE image, the SIMS raster and its 7Li+ peak.

Why a choice at all: a recipe names its products (``se_image`` and ``sims_raster`` by default,
but a recipe may have two SE steps or none, or a raster without lithium). The report takes
the default names when present, else the first of each kind, and says what it could not find
instead of failing: an SE-only run still gets its orthoslices and time budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fibsims.data.run_reader import RunData

LI_PEAK = "7Li+"
DEFAULT_IMAGE = "se_image"
DEFAULT_RASTER = "sims_raster"


@dataclass(frozen=True)
class Sources:
    image: str | None
    raster: str | None
    li_peak: int | None
    """Index of the 7Li+ peak in the raster's peak table."""
    notes: list[str] = field(default_factory=list)
    """What is absent, said the way the page says it."""

    @property
    def li(self) -> bool:
        return self.raster is not None and self.li_peak is not None


def _pick(names: list[str], preferred: str) -> str | None:
    return preferred if preferred in names else (names[0] if names else None)


def find_sources(run: RunData) -> Sources:
    notes: list[str] = []
    image = _pick(run.products("image"), DEFAULT_IMAGE)
    raster = _pick(run.products("raster"), DEFAULT_RASTER)
    li_peak = None
    if image is None:
        notes.append("The run has no SE image: no SE orthoslices, overlay or particles.")
    if raster is None:
        notes.append("The run has no SIMS raster: no 7Li+ maps.")
    else:
        labels = [peak.label for peak in run.peaks(raster)]
        if LI_PEAK in labels:
            li_peak = labels.index(LI_PEAK)
        else:
            notes.append(f"The SIMS raster has no {LI_PEAK} peak (it has {', '.join(labels)}).")
    return Sources(image, raster, li_peak, notes)
