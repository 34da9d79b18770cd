"""Random processes of instrument time that a fresh process can evaluate at any time.

Why keyed blocks: drift, source emission and focus evolve with time, and a run resumed in a new
process at time t must see the values an uninterrupted run saw at t. A stream advanced call after
call would make them depend on the call history. Instead the process lives on a fixed time grid;
the innovations of grid block b come from a generator keyed on (run seed, process name, b), so
the value at t is a function of (seed, t) alone. Blocks are built in order once and cached: a
23-hour run at a 10 s step is ~16 blocks of 512 steps.

Two kinds: a random walk started at 0 at t = 0 (drift), and a stationary Ornstein-Uhlenbeck
process (emission, focus), built with its exact discretisation x' = a x + s sqrt(1 - a^2) z,
a = exp(-step / tau). Between grid points the value is interpolated linearly.

scipy.signal is imported where the first block is built: importing it takes over half a
second, which ``fibsims estimate`` (it opens the twin but builds no block) would pay.
"""

from __future__ import annotations

import math

import numpy as np

from fibsims_twin.rng import keyed_generator

INITIAL_BLOCK_KEY = -1  # the key of the stationary start value of an Ornstein-Uhlenbeck process


class KeyedProcess:
    """A ``dims``-dimensional process on a grid of ``step_s``, keyed on (seed, name, block)."""

    def __init__(
        self,
        seed: int,
        name: str,
        dims: int,
        step_s: float,
        sigma: float,
        correlation_s: float | None,
        block_steps: int,
    ) -> None:
        """``correlation_s`` None: a random walk with ``sigma`` per sqrt(second); otherwise a
        stationary process of standard deviation ``sigma`` and that correlation time."""
        if step_s <= 0 or block_steps < 1:
            raise ValueError("a keyed process needs a positive step and at least one step a block")
        self.seed, self.name, self.dims = int(seed), name, int(dims)
        self.step_s, self.block_steps = float(step_s), int(block_steps)
        self.correlation_s = correlation_s
        if correlation_s is None:
            self._decay = 1.0
            self._innovation = sigma * math.sqrt(step_s)
        else:
            self._decay = math.exp(-step_s / correlation_s)
            self._innovation = sigma * math.sqrt(1.0 - self._decay**2)
        self._sigma = sigma
        self._blocks: list[np.ndarray] = []  # block b: values at steps b*B .. (b+1)*B

    def _start_value(self) -> np.ndarray:
        if self.correlation_s is None:
            return np.zeros(self.dims)
        rng = keyed_generator(self.seed, self.name, INITIAL_BLOCK_KEY)
        return self._sigma * rng.standard_normal(self.dims)

    def _extend_to(self, block: int) -> None:
        while len(self._blocks) <= block:
            b = len(self._blocks)
            start = self._blocks[-1][-1] if self._blocks else self._start_value()
            rng = keyed_generator(self.seed, self.name, b)
            shocks = self._innovation * rng.standard_normal((self.block_steps, self.dims))
            if self.correlation_s is None:
                path = start + np.cumsum(shocks, axis=0)
            else:
                from scipy import signal

                initial = signal.lfiltic([1.0], [1.0, -self._decay], y=[0.0])
                path = np.empty_like(shocks)
                for d in range(self.dims):
                    zi = initial + self._decay * start[d]
                    path[:, d] = signal.lfilter([1.0], [1.0, -self._decay], shocks[:, d], zi=zi)[0]
            self._blocks.append(np.vstack([start, path]))

    def value(self, t_s: float) -> np.ndarray:
        """The process at instrument time ``t_s`` (clamped at 0), shape (dims,)."""
        position = max(float(t_s), 0.0) / self.step_s
        step = math.floor(position)
        block, offset = divmod(step, self.block_steps)
        self._extend_to(block)
        values = self._blocks[block]
        frac = position - step
        return (1.0 - frac) * values[offset] + frac * values[offset + 1]
