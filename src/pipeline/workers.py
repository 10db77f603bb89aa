"""A process pool for the heavy stage bodies, so a run uses every core.

The Prefect tasks of a run execute in threads of the flow's process (the default task
runner); a task whose body is CPU-bound hands it to this pool and waits. Worker processes
never talk to Prefect: on the local ephemeral API each would start a server of its own
(see the README), and they need none, as they only read inputs and write Parquet.
Workers are started with "spawn", not "fork": forking a process that runs threads (Prefect's,
the pool's own) can copy a held lock into the child.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from pipeline.quick_exit import exit_now
from pipeline.runtime import own_peak_rss_kb

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_ahead: _Ahead | None = None
_PARENT_CHECK_SECONDS = 1.0
_largest_kb = 0  # the largest peak a worker process reported (see ``largest_worker_kb``)


def _exit_with_parent(parent: int) -> None:
    """Pool initializer: end this worker soon after the process that started it is gone.

    An idle worker waits on its task queue, whose write end it holds itself, so it would
    outlive a parent killed by SIGKILL (``kill -9``, or a Dask nanny killing a worker that
    did not close in time) for ever. A daemon thread notices the parent change instead.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_worker(parent: int, warm_up: Callable[[], object] | None) -> None:
    """Pool initializer: ``_exit_with_parent``, then ``warm_up``. A warm-up that fails is
    left for the calls to meet: an initializer that raises breaks the whole pool."""
    _exit_with_parent(parent)
    if warm_up is not None:
        with contextlib.suppress(Exception):
            warm_up()


class _QuickExitProcess(multiprocessing.context.SpawnProcess):
    """A spawned worker that, once its loop has ended (the pool's shutdown), exits without
    the interpreter's teardown (``quick_exit``): freeing every module's objects, and a
    stage's caches, one at a time, which the pool's shutdown waits for (a worker that has
    imported the whole stack took seconds to exit on a busy machine). A worker whose loop
    raised exits as before, with the traceback and status 1."""

    def run(self) -> None:
        super().run()
        exit_now(0)


class _QuickExitContext(multiprocessing.context.SpawnContext):
    Process = _QuickExitProcess


def _executor(workers: int, warm_up: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        workers,
        mp_context=_QuickExitContext(),
        initializer=_start_worker,
        initargs=(os.getpid(), warm_up),
    )


@dataclass(frozen=True)
class _Ahead:
    """A pool started before it is needed (``started_ahead``) and the calls that started
    its processes."""

    executor: ProcessPoolExecutor
    workers: int
    starting: tuple[Future[int], ...]

    def serves(self, workers: int) -> bool:
        """Whether a ``pool`` of ``workers`` processes may run on this one: as many
        processes or more, and not broken (a process that died fails every call)."""
        failed = any(f.done() and f.exception() is not None for f in self.starting)
        return 0 < workers <= self.workers and not failed


@contextmanager
def started_ahead(workers: int, warm_up: Callable[[], object]) -> Iterator[None]:
    """Start ``workers`` processes now, each running ``warm_up`` (imports, lazy loads)
    before its first call, while the caller goes on; a ``pool`` opened inside this block
    for at most as many workers runs its calls on them rather than starting its own.

    A spawned worker imports the whole stack before its first call: about 2 s of every
    run's first stage, which can instead overlap the wait for the Prefect server. The
    processes are shut down as the block ends, used or not.
    """
    global _ahead
    if workers <= 0:
        yield
        return
    executor = _executor(workers, warm_up)
    try:
        # processes start on demand: each of these calls, finding none idle, starts one,
        # which warms up (its initializer) before it takes a call
        starting = tuple(executor.submit(os.getpid) for _ in range(workers))
        with _lock:
            previous, _ahead = _ahead, _Ahead(executor, workers, starting)
        try:
            yield
        finally:
            with _lock:
                _ahead = previous
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def pool(workers: int, *, terminate: bool = False) -> Iterator[None]:
    """Run ``call`` in ``workers`` processes inside this block (in-process when 0).

    The processes of an enclosing ``started_ahead`` serve it when they can (not with
    ``terminate``); they are then left running as the block ends, for their owner.

    With ``terminate`` the processes are stopped by SIGTERM when the block ends instead of
    being waited for: a worker that has imported the whole stack can take seconds to exit
    on a busy machine, longer than a Dask nanny waits for its worker to close.
    """
    if workers <= 0:
        yield
        return
    with _lock:
        ahead = _ahead
    if ahead is not None and not terminate and ahead.serves(workers):
        with _serving(ahead.executor):
            yield
        return
    executor = _executor(workers)
    try:
        with _serving(executor):
            yield
    finally:
        if terminate:
            # No public API before Python 3.14 (terminate_workers); an interrupted batch
            # leaves only a .tmp folder, which the next run's cleanup removes.
            for process in list(getattr(executor, "_processes", {}).values()):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _serving(executor: ProcessPoolExecutor) -> Iterator[None]:
    """``call`` runs on ``executor`` inside this block (then on the pool before it)."""
    global _pool
    with _lock:
        previous, _pool = _pool, executor
    try:
        yield
    finally:
        with _lock:
            _pool = previous


def call(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)`` in a worker process of the open pool, else right here.

    ``fn`` and its arguments must be picklable: pass paths and small values, not plans
    holding every input of the corpus.
    """
    with _lock:
        executor = _pool
    if executor is None:
        return fn(*args, **kwargs)
    return _noted(executor.submit(_measured, fn, args, kwargs).result())


def call_alone(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)`` in a process of its own that ends with it.

    For a stage that makes millions of small objects: a process keeps the heap they
    fragmented after they are freed (glibc and Python's allocator cannot return most of
    it), so the stages after it would start from its peak. ``fn`` and its arguments must
    be picklable.
    """
    with _alone() as alone:
        return _noted(alone.submit(_measured, fn, args, kwargs).result())


def call_alone_both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``first()`` and ``second()`` at once, each as ``call_alone`` would run it."""
    with _alone() as one, _alone() as two:
        started = one.submit(_measured, first, (), {}), two.submit(_measured, second, (), {})
        return _noted(started[0].result()), _noted(started[1].result())


def _measured(fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[R, int]:
    """In a worker: ``fn``'s result and the worker's own peak RSS so far (KiB)."""
    return fn(*args, **kwargs), own_peak_rss_kb()


def _noted(measured: tuple[R, int]) -> R:
    global _largest_kb
    result, peak_kb = measured
    with _lock:
        _largest_kb = max(_largest_kb, peak_kb)
    return result


def largest_worker_kb() -> int:
    """The largest peak RSS (KiB) of the worker processes that ran calls for this process,
    each its own (``runtime.own_peak_rss_kb``): ``RUSAGE_CHILDREN`` would count in this
    process's size when each worker started. 0 when no call ran in a worker."""
    with _lock:
        return _largest_kb


def _alone() -> ProcessPoolExecutor:
    """A pool of one process, to be shut down (ending the process) after one call."""
    return _executor(1)


def is_pooled() -> bool:
    """Whether ``call`` hands work to a pool of processes here (else it runs in place)."""
    with _lock:
        return _pool is not None
