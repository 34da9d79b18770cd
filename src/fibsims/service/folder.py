"""Reading an existing run folder: what run it holds, whether its process is alive, what is done.

``status``, ``resume`` and ``abort`` all start here, so they agree on what a folder means.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from fibsims.data.state_file import read_state
from fibsims.engine.journal import Journal
from fibsims.service.layout import RunLayout

LIVE_STATES = {"idle", "preflight", "running", "paused"}


class RunFolderError(Exception):
    """The folder cannot be used as asked (not a run, already a run, still running...)."""


def pid_alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunFolder:
    layout: RunLayout
    manifest: dict[str, Any]
    state: dict[str, Any]
    committed: list[int]
    last_commit_t_s: float

    @property
    def alive(self) -> bool:
        """A process is running this run right now (it may be waiting in ``paused`` on a
        suspender). A paused run whose process exited is not alive."""
        return self.state.get("state") in LIVE_STATES and pid_alive(self.state.get("pid"))

    @property
    def effective_state(self) -> str:
        """The recorded state, or ``interrupted`` when its process died while running."""
        recorded = self.state.get("state", "idle")
        if recorded in {"idle", "preflight", "running"} and not pid_alive(self.state.get("pid")):
            return "interrupted"
        return recorded


def open_run_folder(layout: RunLayout) -> RunFolder:
    if not layout.manifest.exists() or not layout.recipe_copy.exists():
        raise RunFolderError(
            f"{layout.folder} is not a fibsims run folder (no run.json / recipe.yaml); "
            "give the folder a `fibsims run --out` wrote"
        )
    manifest = json.loads(layout.manifest.read_text(encoding="utf-8"))
    journal = Journal(layout.journal)
    entries = [e for e in journal.entries() if e.get("entry") == "slice_committed"]
    committed = [e["slice"] for e in entries]
    if committed != list(range(len(committed))):
        raise RunFolderError(
            f"{layout.journal} lists slices {committed[:5]}... out of order: the journal was "
            "edited or two runs shared the folder; it cannot be resumed safely"
        )
    state = read_state(layout.state) or {"state": "interrupted" if committed else "idle"}
    return RunFolder(
        layout=layout,
        manifest=manifest,
        state=state,
        committed=committed,
        last_commit_t_s=float(entries[-1]["t_s"]) if entries else 0.0,
    )
