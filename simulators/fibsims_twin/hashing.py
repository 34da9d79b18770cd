"""Counter-based random numbers: a uniform value for every integer key, computed in bulk.

Why not generators: the phantom needs a random value for each of millions of lattice cells
(grain seeds) and grain-boundary pairs, and a value must depend only on its key, not on which
other keys were evaluated before. Seeding a NumPy generator per key costs ~20 us; hashing the
key costs ~10 ns and is vectorised. The mixer is SplitMix64's finaliser (Steele, Lea & Flood,
OOPSLA 2014), a bijection of 64-bit integers whose output passes BigCrush.
"""

from __future__ import annotations

import numpy as np

from fibsims_twin.rng import device_id

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_UNIT = 2.0**-53


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _as_uint64(values: np.ndarray | int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).view(np.uint64)


def hash_keys(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """A uint64 hash of (seed, stream, key...) per element of the broadcast keys."""
    with np.errstate(over="ignore"):
        state = mix64(_as_uint64(seed) + _GOLDEN * np.uint64(device_id(stream)))
        for key in keys:
            state = mix64(state ^ (_as_uint64(key) + _GOLDEN))
    return state


def uniform(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1) (float64, 53 random bits) keyed on (seed, stream, keys)."""
    return (hash_keys(seed, stream, *keys) >> _S11).astype(np.float64) * _UNIT
