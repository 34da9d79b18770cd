"""The twin's second thread: work split in bands or handed to the worker gives the same bits."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import ndimage

from fibsims_twin import noise, parallel
from fibsims_twin.microstructure import select
from fibsims_twin.parameters import NoiseParameters


def test_bands_cover_every_index_once_and_wait_for_all() -> None:
    size = 1001
    seen = np.zeros(size, dtype=int)
    lock = threading.Lock()

    def work(band: slice) -> None:
        with lock:
            seen[band] += 1

    parallel.bands(size, work, parallel.MIN_SPLIT_ELEMENTS)
    assert (seen == 1).all()
    calls: list[slice] = []
    parallel.bands(size, calls.append, parallel.MIN_SPLIT_ELEMENTS - 1)
    assert calls == [slice(0, size)]  # a small array is done in one piece


def test_a_failing_band_raises_after_every_band_is_done() -> None:
    done: list[int] = []

    def work(band: slice) -> None:
        if band.start == 0:
            raise ValueError("first band")
        done.append(band.start)

    with pytest.raises(ValueError, match="first band"):
        parallel.bands(400, work, parallel.MIN_SPLIT_ELEMENTS)
    assert sorted(done) == [100, 200, 300]


def test_a_task_runs_once_on_whichever_thread_claims_it_and_keeps_its_error() -> None:
    runs: list[str] = []
    task = parallel.beside(lambda: runs.append(threading.current_thread().name) or len(runs))
    assert task.result() == 1 and task.result() == 1 and len(runs) == 1
    failing = parallel.beside(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result()
    with parallel.serial():
        inline = parallel.beside(threading.current_thread)
        assert inline.result() is threading.current_thread()


def test_a_task_on_the_worker_asking_for_help_runs_it_itself() -> None:
    def outer() -> str:
        return parallel.beside(lambda: threading.current_thread().name).result()

    name = parallel.beside(outer).result()
    assert name == threading.current_thread().name or name.startswith(parallel.WORKER_NAME)


def _blur_reference(expected: np.ndarray, sigma_px: float, p: NoiseParameters) -> np.ndarray:
    """noise.blur as it was before the bands (one correlate1d, one pass per tap pair)."""
    kernel = noise.gaussian_kernel(sigma_px, p.blur_truncate_sigmas)
    image = ndimage.correlate1d(expected, kernel, axis=1, mode="nearest")
    radius, height = kernel.size // 2, image.shape[0]
    weights = kernel.astype(image.dtype)
    out = image * weights[radius]
    pair = np.empty_like(image[: height - 2 * radius])
    for k in range(1, radius + 1):
        np.add(
            image[radius - k : height - radius - k],
            image[radius + k : height - radius + k],
            out=pair,
        )
        pair *= weights[radius + k]
        out[radius : height - radius] += pair
    for row in [*range(radius), *range(height - radius, height)]:
        taps = np.clip(row + np.arange(-radius, radius + 1), 0, height - 1)
        out[row] = weights @ image[taps]
    return out


@pytest.mark.parametrize("sigma_px", [0.8, 2.6, 7.3])
def test_banded_blur_is_the_whole_array_blur_bit_for_bit(sigma_px: float) -> None:
    p = NoiseParameters()
    expected = np.random.default_rng(4).gamma(2.0, 300.0, size=(1031, 517)).astype(np.float32)
    reference = _blur_reference(expected, sigma_px, p)
    banded = noise.blur(expected, sigma_px, p)
    with parallel.serial():
        whole = noise.blur(expected, sigma_px, p)
    assert banded.tobytes() == reference.tobytes() == whole.tobytes()


def test_normals_drawn_beforehand_give_the_same_counts() -> None:
    p = NoiseParameters()
    mean = np.random.default_rng(5).gamma(1.5, 120.0, size=(700, 600)).astype(np.float32)
    drawn_here = noise.shot_noise(np.random.default_rng(9), mean, p, extra_variance=8.0)
    rng = np.random.default_rng(9)
    normals = parallel.beside(noise.standard_normals, rng, mean.shape).result()
    beforehand = noise.shot_noise(rng, mean, p, extra_variance=8.0, normals=normals)
    assert drawn_here.tobytes() == beforehand.tobytes()


def test_the_branch_free_select_moves_np_where_bits() -> None:
    rng = np.random.default_rng(6)
    a, b = (rng.standard_normal(5000).astype(np.float32) for _ in range(2))
    a[:3] = [np.nan, -0.0, np.inf]
    choose = rng.random(5000) < 0.5
    expected = np.where(choose, b, a)
    assert select(choose, a.copy(), b).tobytes() == expected.tobytes()


def test_a_stalled_worker_leaves_the_caller_its_fallback_and_shuts_the_gate(
    monkeypatch,
) -> None:
    monkeypatch.setattr(parallel, "_gate", parallel._Gate())
    monkeypatch.setattr(parallel, "_usable_cores", lambda: 2)
    release, started = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5.0)
        return "worker"

    task = parallel.beside(slow, fallback=lambda: "caller")
    assert started.wait(5.0)  # the worker holds the task, blocked (its CPU clock stands still)
    try:
        assert task.result() == "caller"
        assert not parallel._gate.is_open()  # a rest for the worker
    finally:
        release.set()


def test_a_slice_is_the_same_on_one_thread_on_two_and_with_a_stalling_worker(
    make_twin, kit, monkeypatch
) -> None:
    def slice_digest() -> list[bytes]:
        img, ras, image_truth, raster_truth = kit.run_slice(
            make_twin(seed=11), 1, kit.FULL_IMAGE, kit.FULL_RASTER
        )
        arrays = [img.pixels, ras.count_maps, ras.spectrum.counts, ras.saturated_lines]
        arrays += [*image_truth.values(), *raster_truth.values()]
        return [np.ascontiguousarray(a).tobytes() for a in arrays]

    with parallel.serial():
        one = slice_digest()
    monkeypatch.setattr(parallel, "_usable_cores", lambda: 2)
    monkeypatch.setattr(parallel, "_idle_s", lambda: None)  # the gate open whatever the load
    monkeypatch.setattr(parallel, "_gate", parallel._Gate())
    assert slice_digest() == one
    # every task the worker has not finished when asked for is computed again by the caller
    monkeypatch.setattr(parallel.Pending, "_stalled", lambda self: True)
    monkeypatch.setattr(parallel, "STALL_PAUSE_S", 0.0)
    assert slice_digest() == one


def test_the_gate_uses_the_worker_only_with_half_a_core_spare(monkeypatch) -> None:
    clock = iter([0.0, 1.0, 2.0, 2.1, 3.0])
    idle = iter([100.0, 100.1, 101.0, 101.0])  # seconds of idle CPU since boot, per look
    monkeypatch.setattr(parallel.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(parallel, "_idle_s", lambda: next(idle))
    gate = parallel._Gate()
    assert gate.is_open()  # nothing measured yet
    assert not gate.is_open()  # 0.1 s idle in 1 s
    assert gate.is_open()  # 0.9 s idle in 1 s
    assert gate.is_open()  # within the interval: the last answer, /proc/stat not read
    gate.add_worker_time(0.6)
    assert gate.is_open()  # no idle time, but the worker's own 0.6 s would have been
