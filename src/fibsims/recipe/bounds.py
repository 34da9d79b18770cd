"""Upper bounds of the recipe's numbers: the most an instrument (or the twin) can honour.

A value past its bound is a typo or a test of the software, never a plan: ``passes: 10**12``
would loop for ever and a seed past 2**63 - 1 crashes the twin after the first mill. Refusing it
at load names the field and the line. Bounds on single values only: a combination that is sane
value by value but absurd together (frames x pixels x dwell taking years) is the engine
preflight's to refuse, against ``limits.max_hours``.
"""

from __future__ import annotations

MAX_SEED = 2**63 - 1
"""The twin hashes seeds as signed 64-bit integers (numpy int64); 2**63 overflows there."""

MAX_SLICES = 100_000
"""2.5 mm of material at 25 nm a slice, or eight months at the default run's 3.5 min a slice."""

MAX_BEAM_CURRENT_NA = 2500
"""A Xe plasma FIB column tops out at about 2.5 uA (Thermo Helios Hydra, TESCAN FERA)."""

MAX_BEAM_CURRENT_PA = MAX_BEAM_CURRENT_NA * 1000
"""The same column limit in pA, for the imaging and SIMS steps that give their current in pA."""

MIN_BEAM_CURRENT_PA = 1
"""The smallest current a FIB column offers is about a picoampere; a picoampere field below
it is almost always a nanoampere value in the wrong field (``current_pa: 0.1`` for 100 pA)."""

MAX_FIELD_OF_VIEW_UM = 2000
"""A plasma FIB's widest field of view is 1-2 mm: no pattern or image can span more."""

MAX_POLISH_PASSES = 100
"""A rocking polish needs 1-5 passes; the instrument repeats every pass on every slice."""

MAX_FRAMES = 10_000
"""Slice-and-view sums tens, at most hundreds, of frames into an image or a raster."""

MAX_RUN_HOURS = 1000
"""About six weeks, forty times the default run: no instrument is booked for longer at once."""

MAX_POLL_S = 3600
"""A condition checked less often than hourly is not being watched."""

MAX_WAIT_S = MAX_RUN_HOURS * 3600
"""A wait for a condition to clear cannot outlast the longest run."""

MAX_CHAMBER_PRESSURE_PA = 1.0
"""A FIB chamber works near 1e-4 Pa; by 1 Pa its vacuum interlocks have stopped the beam."""

MAX_DISK_MARGIN = 10
"""More headroom than ten times the rest of the run would pause on any real disk."""

MAX_RETRY_BACKOFF_S = 600
"""A transient fault clears in seconds; a first retry 10 minutes later is a different fault."""
