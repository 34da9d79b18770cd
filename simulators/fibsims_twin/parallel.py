"""A second thread for the twin's large array work, with outputs unchanged bit for bit.

Why: a run's main thread is its bottleneck (the twin is most of it) and the machine has two
cores; NumPy and SciPy release the GIL inside their loops over large arrays, so work on
independent arrays, or on row or column bands of one array, runs on both cores at once.

What may go to the worker, so that every output stays the same bits:
- work that computes each element by the same operations in the same order however the array
  is split (elementwise ufuncs, gathers, a row filter applied to a band of whole rows);
- a random draw, only if the calling thread does not touch that generator again before it
  has the result: every stream sees its draws in the same order as on one thread.

Why tasks can be taken back: on a busy machine the worker may not run for a while. A task
runs on whichever thread claims it first; the caller asking for a result the worker has not
started runs it itself, so a late worker costs a hand-over, never a wait. Tasks never wait
on other tasks, so they cannot deadlock.

Why a fallback: a worker that was descheduled mid-task (another process took its core) would
hold the caller up for a scheduler's time slice or more. A caller waiting for a task checks
the worker's CPU clock every ``STALL_S``: if the worker got less than half of that time, it
is stalled; the caller gives it a rest (the gate stays shut for ``STALL_PAUSE_S``) and, where
the task has a fallback (pure work run again, or a draw from a copy of its generator),
computes the result itself: the same bits, whichever finishes.

Why a gate: a second thread pays only on a spare core. When the machine's other work (other
processes, the run's own writer threads) leaves less than half a core idle, measured from
/proc/stat over the last quarter second (the worker's own time counted as spare), tasks run
inline; so they do with one usable core and inside :func:`serial`. Which thread runs a task
never changes its result, so the gate changes only the wall time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

WORKER_NAME = "fibsims-twin-worker"
MIN_SPLIT_ELEMENTS = 1 << 18  # numerical: a SIMS map (256 x 192) is done whole, an image split
BANDS = 4  # numerical: pieces of a split array (so a late worker leaves the caller little)
GATE_INTERVAL_S = 0.25  # numerical: how often the spare CPU is measured
GATE_SPARE_CORES = 0.5  # numerical: the worker is used when at least this much core is idle
STALL_S = 0.004  # numerical: how often a waiting caller checks that the worker runs
STALL_PAUSE_S = 1.0  # numerical: the gate stays shut this long after a stall

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_serial_depth = 0


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _reset_after_fork() -> None:
    """A forked child has no worker thread: start a new one on first use."""
    global _executor, _lock
    _executor = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _idle_s() -> float | None:
    """Idle CPU seconds of the machine since boot (all cores; None where /proc/stat is not)."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()
        return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")  # idle + iowait
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _Gate:
    """Whether a core is spare: the machine's idle time over the last interval plus what the
    worker used in it (without our tasks it would have been idle too)."""

    def __init__(self) -> None:
        self._since: tuple[float, float] | None = None  # (monotonic s, idle s) at the last look
        self._worker_s = 0.0
        self._open = True
        self._shut_until = 0.0

    def add_worker_time(self, seconds: float) -> None:
        self._worker_s += seconds

    def stalled(self) -> None:
        """The worker stalled on a task (see :meth:`Pending._stalled`): shut for
        ``STALL_PAUSE_S``."""
        self._shut_until = time.monotonic() + STALL_PAUSE_S

    def is_open(self) -> bool:
        now = time.monotonic()
        if now < self._shut_until:
            return False
        if self._since is not None and now - self._since[0] < GATE_INTERVAL_S:
            return self._open
        idle = _idle_s()
        if idle is None:
            return True
        if self._since is not None:
            spare = idle - self._since[1] + self._worker_s
            self._open = spare >= GATE_SPARE_CORES * (now - self._since[0])
        self._since, self._worker_s = (now, idle), 0.0
        return self._open


_gate = _Gate()


def _worker() -> ThreadPoolExecutor | None:
    """The worker, started on first use; None to run inline."""
    global _executor
    if _serial_depth or _usable_cores() < 2 or not _gate.is_open():
        return None
    if threading.current_thread().name.startswith(WORKER_NAME):
        return None  # a task asking for help runs the work itself
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WORKER_NAME)
        return _executor


class Pending(Generic[T]):
    """``work(*args)``, run once by the first thread to claim it: the worker, or the caller
    of :meth:`result` if the worker has not started it. ``fallback`` (no arguments, the same
    value as the work) is what the caller computes if the worker stalls."""

    def __init__(
        self,
        work: Callable[..., T],
        args: tuple[object, ...],
        fallback: Callable[[], T] | None = None,
    ) -> None:
        self._work: Callable[..., T] | None = work
        self._args = args
        self._fallback = fallback
        self._claim = threading.Lock()
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._runner = 0  # the worker thread's ident, once it has claimed the task

    def run(self) -> None:
        """Run the work unless another thread has claimed it."""
        if not self._claim.acquire(blocking=False):
            return
        work, args = self._work, self._args
        self._work, self._args = None, ()  # drop the references once run
        on_worker = threading.current_thread().name.startswith(WORKER_NAME)
        if on_worker:
            self._runner = threading.get_ident()
        start = time.thread_time() if on_worker else 0.0
        try:
            assert work is not None
            self._value = work(*args)
        except BaseException as error:  # handed to the caller of result()
            self._error = error
        finally:
            self._done.set()
            if on_worker:
                _gate.add_worker_time(time.thread_time() - start)

    def _stalled(self) -> bool:
        """Wait for the worker; True as soon as it gets less than half of a ``STALL_S``
        (its thread's CPU clock; where that cannot be read, a wait of ``STALL_S`` stalls)."""
        try:
            if not self._runner:
                raise OSError("the worker has claimed the task but not named itself yet")
            clock = time.pthread_getcpuclockid(self._runner)
            used = time.clock_gettime(clock)
        except (AttributeError, OSError):  # not Linux, or the worker just finished
            return not self._done.wait(STALL_S)
        while not self._done.wait(STALL_S):
            try:
                now = time.clock_gettime(clock)
            except OSError:
                return False
            if now - used < STALL_S / 2:
                return True
            used = now
        return False

    def result(self) -> T:
        """The work's value (or its error), running it here if no thread has started it."""
        self.run()
        if not self._done.is_set() and self._stalled():
            _gate.stalled()
            fallback, self._fallback = self._fallback, None
            if fallback is not None:
                return fallback()
        self._done.wait()
        self._fallback = None
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def beside(
    work: Callable[..., T], *args: object, fallback: Callable[[], T] | None = None
) -> Pending[T]:
    """Offer ``work(*args)`` to the worker thread; ``.result()`` gives its value. Pure work
    can name itself as ``fallback`` (``lambda: work(*args)``)."""
    task = Pending(work, args, fallback)
    executor = _worker()
    if executor is not None:
        executor.submit(task.run)
    return task


def bands(size: int, work: Callable[[slice], object], elements: int) -> None:
    """``work(band)`` on ``BANDS`` consecutive bands of ``range(size)``, shared between this
    thread (from the first band on) and the worker (from the last); returns when all are
    done. Arrays of fewer than ``MIN_SPLIT_ELEMENTS`` ``elements`` are done in one piece (a
    hand-over costs tens of microseconds); larger ones in bands, on one thread or two."""
    if elements < MIN_SPLIT_ELEMENTS:
        work(slice(0, size))
        return
    edges = [size * b // BANDS for b in range(BANDS + 1)]
    tasks = [Pending(work, (slice(a, b),)) for a, b in itertools.pairwise(edges)]
    executor = _worker()
    if executor is not None:
        for task in reversed(tasks):
            executor.submit(task.run)
    error: BaseException | None = None
    for task in tasks:  # every band is waited for, so none is still writing on return
        try:
            task.result()
        except BaseException as failure:
            error = error or failure
    if error is not None:
        raise error


@contextlib.contextmanager
def serial() -> Iterator[None]:
    """Run every task inline inside the block (tests compare the two ways; not thread-safe)."""
    global _serial_depth
    _serial_depth += 1
    try:
        yield
    finally:
        _serial_depth -= 1
