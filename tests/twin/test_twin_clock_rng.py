"""Virtual time, keyed random streams, hashed uniforms and time processes: the foundations of an
honest, repeatable run."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from fibsims_twin.clock import VirtualClock
from fibsims_twin.hashing import uniform
from fibsims_twin.rng import RandomStreams, keyed_generator, position_pm
from fibsims_twin.timeseries import KeyedProcess


def test_sleep_advances_virtual_time_by_exactly_the_duration() -> None:
    clock = VirtualClock()
    clock.sleep(1.5)
    clock.sleep(2.25)
    assert clock.now_s() == 3.75


@pytest.mark.parametrize("seconds", [-0.001, math.nan, math.inf])
def test_negative_or_non_finite_sleep_is_refused_and_time_unchanged(seconds: float) -> None:
    clock = VirtualClock(10.0)
    with pytest.raises(ValueError, match="non-negative"):
        clock.sleep(seconds)
    assert clock.now_s() == 10.0


def test_keyed_draws_depend_on_seed_and_keys_only() -> None:
    a = keyed_generator(7, "se_detector.image", 25_000, 0).random(4)
    b = keyed_generator(7, "se_detector.image", 25_000, 0).random(4)
    other_seed = keyed_generator(8, "se_detector.image", 25_000, 0).random(4)
    other_device = keyed_generator(7, "tof.raster", 25_000, 0).random(4)
    other_face = keyed_generator(7, "se_detector.image", -25_000, 0).random(4)
    np.testing.assert_array_equal(a, b)
    for different in (other_seed, other_device, other_face):
        assert not np.array_equal(a, different)


def test_keyed_draws_do_not_depend_on_the_python_hash_salt() -> None:
    code = (
        "from fibsims_twin.rng import keyed_generator;"
        "print(keyed_generator(3, 'tof.raster', 50_000, 2).integers(0, 2**62))"
    )
    draws = set()
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        draws.add(int(result.stdout))
    assert draws == {int(keyed_generator(3, "tof.raster", 50_000, 2).integers(0, 2**62))}


def test_per_face_counter_restarts_when_the_face_moves() -> None:
    streams = RandomStreams(run_seed=5)
    first_at_1 = streams.at_position("dev", 1.0).random()
    second_at_1 = streams.at_position("dev", 1.0).random()
    first_at_2 = streams.at_position("dev", 1.025).random()
    fresh = RandomStreams(run_seed=5)
    assert fresh.at_position("dev", 1.025).random() == first_at_2  # history does not matter
    assert first_at_1 != second_at_1  # a second image of one face gets new noise
    assert streams.at_position("dev", 1.0).random() == first_at_1  # back at a face: restart


def test_positions_are_keyed_to_the_picometre() -> None:
    assert position_pm(0.025) == 25_000
    assert position_pm(0.025 * 3) == 75_000  # float rounding of slice arithmetic is absorbed
    assert position_pm(-0.025) == -25_000


def test_clock_starts_at_the_session_start_time() -> None:
    assert VirtualClock(1234.5).now_s() == 1234.5
    with pytest.raises(ValueError, match="start_s"):
        VirtualClock(-1.0)


def test_hashed_uniforms_depend_on_their_keys_only_and_are_uniform() -> None:
    keys = np.arange(200_000)
    u = uniform(811, "phantom.grain_seeds", keys, 3)
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.001
    # the value of a key does not depend on which other keys were hashed with it
    assert uniform(811, "phantom.grain_seeds", keys[12345:12346], 3)[0] == u[12345]
    assert uniform(812, "phantom.grain_seeds", 12345, 3) != u[12345]
    assert uniform(811, "phantom.cracked_boundaries", 12345, 3) != u[12345]
    # neighbouring keys are not correlated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_a_time_process_is_a_function_of_seed_and_time_not_of_history() -> None:
    walk = KeyedProcess(5, "drift.walk", 3, 10.0, 1e-3, None, 64)
    late = walk.value(50_000.0)  # builds every block up to there
    fresh = KeyedProcess(5, "drift.walk", 3, 10.0, 1e-3, None, 64)
    np.testing.assert_array_equal(fresh.value(50_000.0), late)  # a resumed process agrees
    np.testing.assert_array_equal(walk.value(0.0), np.zeros(3))  # a walk starts at rest
    other = KeyedProcess(6, "drift.walk", 3, 10.0, 1e-3, None, 64)
    assert not np.array_equal(other.value(50_000.0), late)


def test_a_random_walk_spreads_as_the_square_root_of_time() -> None:
    sigma = 2e-3  # per sqrt(second)
    ends = np.array(
        [KeyedProcess(s, "w", 1, 10.0, sigma, None, 64).value(3600.0)[0] for s in range(400)]
    )
    assert ends.std() == pytest.approx(sigma * math.sqrt(3600.0), rel=0.12)


def test_a_stationary_process_keeps_its_spread_and_forgets_after_its_correlation_time() -> None:
    process = KeyedProcess(3, "source.emission", 1, 5.0, 0.01, 60.0, 512)
    t = np.arange(0.0, 200_000.0, 5.0)
    values = np.array([process.value(s)[0] for s in t])
    assert values.std() == pytest.approx(0.01, rel=0.1)
    lag = int(60.0 / 5.0)  # one correlation time: correlation exp(-1)
    correlation = np.corrcoef(values[:-lag], values[lag:])[0, 1]
    assert correlation == pytest.approx(math.exp(-1.0), abs=0.05)
