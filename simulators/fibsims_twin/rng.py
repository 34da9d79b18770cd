"""Random streams keyed on the physical state, so a resumed run repeats the same bytes.

Why keyed and not sequential: a run killed after slice 200 and resumed in a fresh process must
draw the same noise for slice 201 as the run that never stopped. A single generator advanced call
after call would make every draw depend on the whole call history (retries, an extra autofocus,
a resume). Instead each draw gets its own generator, seeded through
:class:`numpy.random.SeedSequence` from

    (run seed, stable device id, position on the slicing axis in integer picometres, counter)

where the counter numbers the draws a device made at that position and restarts when the
position changes. The same physical situation therefore always sees the same noise.

Device ids are CRC-32 of the device name: stable across processes, unlike Python's ``hash()``
which is salted per interpreter.

The counters are the streams' only state. A session opened from a committed sample state
(:mod:`fibsims_twin.snapshot`) restores them, so even a draw at the very position the last
session drew at (an image of the same face across a resume) repeats.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fibsims_twin.parameters import PM_PER_UM

if TYPE_CHECKING:  # numpy is imported by the draws: the stage and the cost model import this
    import numpy as np


def device_id(name: str) -> int:
    """A process-independent integer id for a device or stream name."""
    return zlib.crc32(name.encode("utf-8"))


def zigzag(value: int) -> int:
    """Map any integer to a non-negative one, bijectively (SeedSequence needs n >= 0)."""
    return 2 * value if value >= 0 else -2 * value - 1


def position_pm(z_um: float) -> int:
    """A position on the slicing axis as whole picometres: the key of the face it names."""
    return round(z_um * PM_PER_UM)


def keyed_generator(seed: int, name: str, *keys: int) -> np.random.Generator:
    """A generator determined only by (seed, name, keys)."""
    import numpy as np

    entropy = [zigzag(int(seed)), device_id(name), *(zigzag(int(k)) for k in keys)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


class RandomStreams:
    """The run's random streams: one fresh generator per (device, position, counter)."""

    def __init__(self, run_seed: int) -> None:
        self.run_seed = int(run_seed)
        self._counters: dict[str, tuple[int, int]] = {}

    def at_position(self, device: str, z_um: float) -> np.random.Generator:
        """The next generator of ``device`` at slicing-axis position ``z_um``.

        The counter restarts at 0 whenever the device's position differs from its last draw,
        so the n-th draw at a face is the same whatever happened at earlier faces.
        """
        pm = position_pm(z_um)
        last_pm, count = self._counters.get(device, (pm, 0))
        if last_pm != pm:
            count = 0
        self._counters[device] = (pm, count + 1)
        return keyed_generator(self.run_seed, device, pm, count)

    def counters(self) -> dict[str, tuple[int, int]]:
        """Per device, the position (pm) of its last draw and the draws made there."""
        return dict(self._counters)

    def restore_counters(self, counters: Mapping[str, tuple[int, int]]) -> None:
        """Continue from ``counters`` (as :meth:`counters` gave them)."""
        self._counters = {name: (int(pm), int(count)) for name, (pm, count) in counters.items()}
