"""What one slice produced, assembled from the event stream.

The runner does not hand the store a finished record: it emits events (steps started and
finished, products kept), and :class:`SliceAssembler`, which a store subscribes with, puts them
together. When the engine closes the slice (a :class:`~fibsims.engine.store.SliceSeal`), the
assembler yields the :class:`SliceRecord` the store makes durable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fibsims.engine.context import RunContext
from fibsims.engine.events import Event, ProductKept, StepFinished
from fibsims.instrument.types import Image, Raster, StagePosition


@dataclass(frozen=True)
class StepRecord:
    """One executed step: instrument-clock start and end, the current used, read-backs."""

    position: int
    kind: str
    started_s: float
    finished_s: float
    current_na: float
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.finished_s - self.started_s


@dataclass(frozen=True)
class SliceRecord:
    """A complete slice, ready to be stored."""

    index: int
    face_z_um: float
    started_s: float
    finished_s: float
    stage: StagePosition
    steps: tuple[StepRecord, ...]
    images: dict[str, Image] = field(default_factory=dict)
    rasters: dict[str, Raster] = field(default_factory=dict)
    truth: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    """Ground truth per product (simulated instruments): maps on the product's own pixel grid
    (with ``--truth``) and its geometry, e.g. ``truth["sims_raster"]["li_fraction"]``."""
    nominal_front_um: float = 0.0
    context: RunContext = field(default_factory=RunContext)
    positions: dict[str, int] = field(default_factory=dict)
    """The step (its position in the slice plan) that kept each product: with step names a
    product's name no longer says which step made it."""

    @property
    def duration_s(self) -> float:
        return self.finished_s - self.started_s


class SliceAssembler:
    """Collects one slice's steps and products from the stream."""

    def __init__(self) -> None:
        self.slice: int | None = None
        self.steps: list[StepRecord] = []
        self.images: dict[str, Image] = {}
        self.rasters: dict[str, Raster] = {}
        self.positions: dict[str, int] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepFinished):
            self._for(event.slice)
            self.steps.append(
                StepRecord(
                    event.position,
                    event.kind,
                    event.started_s,
                    event.started_s + event.duration_s,
                    event.current_na,
                    event.metadata,
                )
            )
        elif isinstance(event, ProductKept):
            self._for(event.slice)
            self.positions[event.product] = event.position
            if isinstance(event.data, Image):
                self.images[event.product] = event.data
            elif isinstance(event.data, Raster):
                self.rasters[event.product] = event.data

    def _for(self, index: int) -> None:
        if self.slice != index:  # a new slice: whatever was left belongs to a stopped one
            self.clear()
            self.slice = index

    @property
    def holds_anything(self) -> bool:
        return bool(self.steps or self.images or self.rasters)

    def record(
        self, seal: Any, truth: dict[str, dict[str, np.ndarray]] | None = None
    ) -> SliceRecord:
        """The slice ``seal`` closes (a :class:`~fibsims.engine.store.SliceSeal`)."""
        return SliceRecord(
            index=seal.index,
            face_z_um=seal.face_z_um,
            started_s=seal.started_s,
            finished_s=seal.finished_s,
            stage=seal.stage,
            steps=tuple(self.steps) if self.slice == seal.index else (),
            images=dict(self.images) if self.slice == seal.index else {},
            rasters=dict(self.rasters) if self.slice == seal.index else {},
            truth=truth or {},
            nominal_front_um=seal.nominal_front_um,
            context=seal.context,
            positions=dict(self.positions) if self.slice == seal.index else {},
        )

    def clear(self) -> None:
        self.slice = None
        self.steps, self.images, self.rasters, self.positions = [], {}, {}, {}
