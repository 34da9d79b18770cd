"""run.h5 and sims.h5 written as the run goes, on a thread of their own.

Why: made from the slice files when a session ends, run.h5 and sims.h5 froze the default run
for half a minute after its last slice and kept one core idle all run long. Here each
committed slice, already in memory as its slice file's bytes, is stacked into a temporary
run.h5 and encoded into a temporary sims.h5 by a background thread while the engine acquires
the next slices (compression in HDF5's filters and zlib releases the GIL). When the session
ends, :meth:`LiveProducts.finish` writes the small whole-run tables and renames both files into
place: under a second at any run length.

Crash safety is unchanged: the slice files and the journal stay the record. The temporary
files are a cache: a kill leaves them torn, and the next session deletes them
(``service.finalize.remove_temporaries``). Whenever they cannot be trusted (a write failed,
the disk ran low, a slice the journal holds is not in them, a slice was found damaged),
:meth:`~LiveProducts.finish` says so and finalizing makes the files from the slice files as
before. Each stacked row is read back and checked against what was written as it goes, so
the end only checks the tables. A resumed session first stacks the slices already committed,
from their files (checked against their receipts), on the same thread.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from fibsims.data import run_file as run_files
from fibsims.data.atomic import temporary_sibling
from fibsims.data.live_sims import LiveSimsFile
from fibsims.data.platform import fsync_directory
from fibsims.data.run_file import RunFileBuilder, SliceSource
from fibsims.data.sims_file import SimsFileError
from fibsims.engine.events import Event, SliceCommitted
from fibsims.engine.store import Receipt

QUEUE_SLICES = 3
"""Committed slices waiting for the writer at most: when it falls behind, the engine waits
rather than memory growing (each holds a slice file's bytes, a few MB)."""
SYNC_EVERY_SLICES = 16
"""How often the files are pushed to the disk, so the rename at the end has little to flush."""
ROOM_SLACK_BYTES = 64 * 2**20
ROOM_SLICES = 4
"""The writer stops (and frees its files) when the disk has less than this many slices' bytes
and the slack left: HDF5 handles a full disk badly, and the slice files need the room more."""


@dataclass(frozen=True)
class _Committed:
    source: SliceSource
    image: bytes | None
    """The slice file's bytes as written; None: read the file (a slice of an earlier session)."""


def open_image(image: bytes, name: str) -> h5py.File:
    """An HDF5 file held in ``image`` (bytes), opened read-only in memory."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_fapl_core(backing_store=False)
    fapl.set_file_image(image)
    return h5py.File(h5py.h5f.open(name.encode(), h5py.h5f.ACC_RDONLY, fapl=fapl))


class LiveProducts:
    """An event sink that keeps run.h5 (and sims.h5, given ``sims``: the raster and image it
    copies) written up to the last committed slice. The slice store hands it each slice file's
    bytes (:meth:`written`); the slice is stacked once its ``SliceCommitted`` event says the
    journal holds it."""

    def __init__(
        self,
        run_file: Path,
        capacity: int,
        sims: tuple[Path, str, str] | None = None,
        earlier: Sequence[SliceSource] = (),
    ) -> None:
        self.run_file = run_file
        self.capacity = max(capacity, 1)
        self.sims_spec = sims
        self.failure: str | None = None
        self.held: list[SliceSource] = []
        self._earlier = list(earlier)
        self._pending: _Committed | None = None
        self._queue: queue.Queue[_Committed | None] = queue.Queue(maxsize=QUEUE_SLICES)
        self._tmp = temporary_sibling(run_file)
        self._file: h5py.File | None = None
        self._builder: RunFileBuilder | None = None
        self._sims: LiveSimsFile | None = None
        self._stop = False
        self._finished = False
        self._thread = threading.Thread(target=self._work, name="live-products", daemon=True)
        self._thread.start()

    # -- the engine's side --------------------------------------------------------------
    def written(self, index: int, path: Path, receipt: Receipt, image: bytes) -> None:
        """The store wrote slice ``index`` durably to ``path``; ``image`` is its bytes."""
        self._pending = _Committed(SliceSource(index, path, receipt), image)

    def __call__(self, event: Event) -> None:
        if not isinstance(event, SliceCommitted) or self._pending is None:
            return
        if self._pending.source.index == event.slice:
            if self.failure is None:
                self._queue.put(self._pending)  # waits while the writer is QUEUE_SLICES behind
            self._pending = None

    @property
    def temporaries(self) -> tuple[Path, ...]:
        """The files it writes until :meth:`finish` (kept by ``remove_temporaries``)."""
        return (self._tmp, *((self._sims.tmp,) if self._sims is not None else ()))

    # -- the writer thread --------------------------------------------------------------
    def _work(self) -> None:
        items: list[_Committed | None] = [_Committed(s, None) for s in self._earlier]
        while True:
            item = items.pop(0) if items else self._queue.get()
            if item is None:
                return
            if self.failure is not None or self._stop:
                continue  # keep taking them, so the engine never waits on a dead writer
            try:
                self._add(item)
            except Exception as error:  # any failure only costs the shortcut
                self._fail(f"{type(error).__name__}: {error}")

    def _add(self, item: _Committed) -> None:
        source = item.source
        image = item.image if item.image is not None else _read_checked(source)
        if image is None:
            self._fail(f"slice {source.index}'s file does not match its receipt")
            return
        free = free_bytes(self.run_file.parent)
        if free < ROOM_SLICES * len(image) + ROOM_SLACK_BYTES:
            self._fail("the disk is nearly full")
            return
        if self._file is None:
            self._file = h5py.File(self._tmp, "w")
            self._builder = RunFileBuilder(self._file, self.capacity, growable=True)
            if self.sims_spec is not None:
                path, raster, picture = self.sims_spec
                self._sims = LiveSimsFile(path, raster, picture, self.capacity)
        assert self._builder is not None
        i = len(self.held)
        with open_image(image, f"slice-{source.index}.h5") as slice_file:
            self._builder.add(i, source, slice_file)
            self._check_rows(i)
            if self._sims is not None:
                self._sims.add(i, slice_file)
        self.held.append(source)
        if len(self.held) % SYNC_EVERY_SLICES == 0:
            self._sync()

    def _check_rows(self, i: int) -> None:
        """Read row ``i`` of every stacked dataset back and compare it with what was written."""
        assert self._builder is not None and self._file is not None
        self._file.flush()
        stack = self._builder.stack
        for name in stack.arrays_of(i):
            row = np.ascontiguousarray(self._builder.target[name][i])
            if zlib.crc32(row.tobytes()) != stack.written[(name, i)]:
                raise ValueError(f"{name} of slice {i} reads back changed")

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.id.get_vfd_handle())
        if self._sims is not None:
            self._sims.sync()

    def _fail(self, why: str) -> None:
        self.failure = why
        self._discard()

    def _discard(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink(missing_ok=True)
        if self._sims is not None:
            self._sims.discard()

    def _join(self, between: Callable[[], None]) -> None:
        self._queue.put(None)
        while self._thread.is_alive():
            between()
            self._thread.join(0.1)

    # -- the end --------------------------------------------------------------------------
    def finish(
        self,
        sources: Sequence[SliceSource],
        attrs: Mapping[str, Any],
        between: Callable[[], None] = lambda: None,
    ) -> str:
        """Complete run.h5 with ``attrs`` and rename it into place if it holds exactly the
        journal's ``sources``; then sims.h5. Return "" when run.h5 is done, else why not (the
        caller then makes both from the slice files). Raises what ``between`` raises."""
        self._join(between)
        if self.failure is None and [s for s in self.held] != list(sources):
            self._fail("it does not hold the slices the journal holds")
        if self.failure is not None:
            return self.failure
        if not sources:
            self._fail("no slice was committed")
            return "no slice was committed"
        assert self._builder is not None and self._file is not None
        try:
            self._builder.close(attrs, {})
            self._file.close()
            with open(self._tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            run_files.verify(self._tmp, sources)
        except Exception as error:  # the slice files can still make it
            self._fail(f"{type(error).__name__}: {error}")
            return str(self.failure)
        os.replace(self._tmp, self.run_file)
        fsync_directory(self.run_file.parent)
        self._finished = True
        return ""

    def finish_sims(self, slices: int) -> str:
        """Complete sims.h5 from the final run.h5; "" when done, else why not (the caller
        then writes it from run.h5)."""
        if self._sims is None or not self._finished:
            return "sims.h5 was not written as the run went"
        try:
            self._sims.finish(self.run_file, slices)
        except SimsFileError as error:
            return str(error)
        finally:
            self._sims = None
        return ""

    def close(self) -> None:
        """Stop the writer and delete what it has not renamed into place (idempotent)."""
        self._stop = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._file is not None and self._tmp.exists():
            self._discard()
        elif self._sims is not None:
            self._sims.discard()


def free_bytes(folder: Path) -> int:
    """Free bytes where the run's files are."""
    return shutil.disk_usage(folder).free


def _read_checked(source: SliceSource) -> bytes | None:
    """The bytes of a committed slice's file, or None if they do not match its receipt."""
    try:
        image = source.path.read_bytes()
    except OSError:
        return None
    crc = f"{zlib.crc32(image):08x}"
    return image if (crc, len(image)) == (source.receipt.crc32, source.receipt.bytes) else None
