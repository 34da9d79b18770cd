"""Where a sweep's variants run: a Dask cluster (dask.distributed), each variant one task.

The only module of fibsims that imports Dask (an import-linter contract says so): the tasks
themselves (:mod:`.task`) are plain functions a worker imports from an installed fibsims, so a
worker needs nothing but ``pip install fibsims``.

- **Embedded** (no ``--scheduler``): a ``LocalCluster`` of ``workers`` processes with one thread
  each (a variant is CPU-bound Python and numpy; processes side-step the GIL), BLAS and OpenMP
  pinned to one thread per worker, no dashboard. It lives as long as the sweep and is closed on
  every way out, Ctrl-C included.
- **An existing cluster** (``--scheduler tcp://HOST:PORT``): a client to its scheduler; the
  workers are the cluster's. Every worker must see the sweep folder at the same path (a shared
  filesystem): each task writes its run folder there.

Ctrl-C (POSIX and Windows alike: the embedded workers are started with SIGINT ignored, so the
terminal's Ctrl-C reaches the sweep only): the sweep asks every running variant to pause
(``pause.request`` in its run folder, which the engine honours at its next safe point, beam
blanked, data kept), drops the variants not started, waits up to :data:`PAUSE_WAIT_S` for the
running ones to pause, then closes the cluster. A second Ctrl-C closes it at once (the runs are
then killed, which they survive: the rerun resumes them). Either way the rerun resumes.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fibsims.service.sweep.task import VariantTask, one_line, run_variant

PAUSE_WAIT_S = 60.0
CONNECT_TIMEOUT_S = 15.0
WORKER_ENV = {  # one thread per worker process for every numeric library
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "BLOSC_NTHREADS": "1",
}


class SchedulerError(Exception):
    """The Dask scheduler named by ``--scheduler`` cannot be used; the message says why."""


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; the message says what became of the running variants."""


def check_address(address: str) -> None:
    """Refuse an address Dask cannot read, naming the expected form."""
    from distributed.comm.addressing import parse_address

    form = "give it as tcp://HOST:PORT (the address `dask scheduler` prints)"
    try:
        protocol, location = parse_address(address, strict=True)
    except (ValueError, TypeError) as error:
        raise SchedulerError(f"--scheduler {address!r}: {error}; {form}") from None
    if protocol not in {"tcp", "tls", "ws", "wss", "ucx"} or ":" not in location:
        raise SchedulerError(f"--scheduler {address!r}: not a scheduler address; {form}")


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while the workers are spawned: they inherit it, so the terminal's Ctrl-C
    goes to the sweep, which pauses them cleanly (main thread only; elsewhere nothing to do)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client: to ``scheduler``, else to an embedded cluster of ``workers`` processes.
    Closed (and the embedded cluster with it) however the block ends."""
    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with dask.config.set(
        {
            "distributed.scheduler.allowed-failures": 1,  # a lost worker: one more try
            "distributed.worker.daemon": False,
            "distributed.nanny.pre-spawn-environ": WORKER_ENV,
            "distributed.worker.profile.enabled": False,  # see _stop_profilers
        }
    ):
        if scheduler is not None:
            check_address(scheduler)
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise SchedulerError(
                    f"cannot reach the Dask scheduler at {scheduler} within "
                    f"{CONNECT_TIMEOUT_S:g} s ({one_line(error)}); is it running, and is the "
                    "address the one it printed?"
                ) from None
            try:
                _stop_profilers(client)
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close(timeout=5)
            return
        with _sigint_ignored():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # its HTTP server on a free port: none to collide on
                scheduler_kwargs={"dashboard": False},  # and no dashboard (bokeh) on it
                silence_logs=logging.CRITICAL,  # a worker losing its scheduler at close
                env=WORKER_ENV,
            )
        try:
            client = Client(cluster, set_as_default=False)
            try:
                _stop_profilers(client)  # the config above already did; a plugin says it twice
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close(timeout=5)
        finally:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)


def _stop_profilers(client: Any) -> None:
    """Stop the statistical profiler of every worker of an existing cluster, now and as
    workers join (a worker plugin; an embedded cluster's workers start without it).

    Why: Dask's profiler calls ``sys._current_frames()`` from the worker's event loop every
    10 ms; on CPython 3.11 that call deadlocked (both threads waiting, the worker frozen for
    good) against a variant's run, whose twin and data writer use threads of their own (seen
    twice in some two hundred variants, ``py-spy dump``: the event loop in ``trigger_profile`` ->
    ``_PyThread_CurrentFrames``, the run waiting for the GIL). A sweep never reads profiles."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class _NoProfiler(WorkerPlugin):
        name = "fibsims-no-profiler"

        def setup(self, worker: Any) -> None:
            for name in ("profile", "profile-cycle"):
                callback = worker.periodic_callbacks.pop(name, None)
                if callback is not None:
                    callback.stop()

    try:
        client.register_plugin(_NoProfiler())
    except Exception as error:  # an old scheduler: say so, run anyway
        logging.getLogger(__name__).warning("cannot stop the workers' profilers: %s", error)


def workers_of(client: Any) -> int:
    """How many workers the client's cluster has now."""
    with contextlib.suppress(Exception):
        return len(client.scheduler_info().get("workers", {}))
    return 0


def run_tasks(
    client: Any,
    tasks: Sequence[VariantTask],
    on_result: Callable[[VariantTask, dict[str, Any]], None],
) -> None:
    """Submit every task, call ``on_result`` as each finishes (in the order they finish); on
    Ctrl-C pause the running ones, then raise :class:`SweepInterrupted`."""
    from distributed import as_completed

    futures = {
        client.submit(
            run_variant, task, key=f"fibsims-{task.id}-{time.time_ns()}", pure=False
        ): task
        for task in tasks
    }
    pending = dict(futures)
    iterator = as_completed(list(futures), loop=client.loop)
    with _interrupts_raise():
        try:
            for future in iterator:
                task = pending.pop(future)
                on_result(task, _result_of(future))
        except KeyboardInterrupt:
            _pause_running(pending, on_result)


@contextlib.contextmanager
def _interrupts_raise() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, Ctrl-Break) raise KeyboardInterrupt here, whatever handler the
    command installed, so the loop above can pause the running variants (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    signals = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {sig: signal.signal(sig, signal.default_int_handler) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _result_of(future: Any) -> dict[str, Any]:
    try:
        result = future.result()
    except Exception as error:  # the worker died under it, or the task was cancelled
        return {
            "status": "failed",
            "error": f"the Dask worker running it was lost ({one_line(error)}); rerun the sweep "
            "to resume it",
        }
    if not isinstance(result, dict):
        return {"status": "failed", "error": f"the task returned {type(result).__name__}"}
    return result


def _pause_running(
    pending: dict[Any, VariantTask],
    on_result: Callable[[VariantTask, dict[str, Any]], None],
) -> None:
    # started: its run folder holds a run (no call to the scheduler here: after a signal cut
    # into the client's wait, a scheduler call may never return)
    started = {f: t for f, t in pending.items() if Path(t.folder, "run.json").exists()}
    stopped = len(started)
    for future in pending:
        if future not in started:
            future.cancel()
    for task in started.values():
        with contextlib.suppress(OSError):
            Path(task.folder, "pause.request").touch()
    deadline = time.monotonic() + PAUSE_WAIT_S
    try:
        while started and time.monotonic() < deadline:
            for future in [f for f in started if f.done()]:
                result = _result_of(future)
                if result.get("status") != "done":  # paused as asked: resumed by the rerun
                    result = {**result, "status": "pending", "error": ""}
                on_result(started.pop(future), result)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C: the cluster is closed at once, the runs resume on the rerun
    raise SweepInterrupted(
        f"interrupted: {stopped} running variants asked to pause, {len(pending) - stopped} not "
        "started; rerun the same command to resume the sweep (finished variants are skipped, "
        "stopped ones resumed)"
    )
