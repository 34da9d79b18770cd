"""Where everything of a run lives inside its folder: one place, so nothing guesses paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunLayout:
    folder: Path

    @property
    def run_file(self) -> Path:
        return self.folder / "run.h5"

    @property
    def sims_file(self) -> Path:
        """The SIMS data in the TofDAQ fibTOF layout, made from run.h5 (data.sims_file)."""
        return self.folder / "sims.h5"

    @property
    def slices(self) -> Path:
        """Per-slice files, the durable unit while the run goes on."""
        return self.folder / "slices"

    @property
    def journal(self) -> Path:
        return self.folder / "journal.jsonl"

    @property
    def log(self) -> Path:
        return self.folder / "log.jsonl"

    @property
    def summary(self) -> Path:
        return self.folder / "summary.json"

    @property
    def manifest(self) -> Path:
        return self.folder / "run.json"

    @property
    def recipe_copy(self) -> Path:
        return self.folder / "recipe.yaml"

    @property
    def state(self) -> Path:
        return self.folder / "state.json"

    @property
    def abort_request(self) -> Path:
        """Written by ``fibsims abort``; the live run polls for it at every safe point."""
        return self.folder / "abort.request"

    @property
    def pause_request(self) -> Path:
        """Written by ``fibsims pause``; the live run polls for it at every safe point and
        pauses as on Ctrl-C (the way to pause from another terminal on Windows, which has no
        catchable SIGTERM)."""
        return self.folder / "pause.request"

    @property
    def superseded(self) -> Path:
        """Slices that stopped part way and uncommitted leftovers: kept, never in run.h5."""
        return self.folder / "superseded"
