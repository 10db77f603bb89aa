"""A process pool for the heavy stage bodies, so a run uses every core.

The Prefect tasks of a run execute in threads of the flow's process (the default task
runner); a task whose body is CPU-bound hands it to this pool and waits. Worker processes
never talk to Prefect: on the local ephemeral API each would start a server of its own
(see the README), and they need none, as they only read inputs and write Parquet.
Workers are started with "spawn", not "fork": forking a process that runs threads (Prefect's,
the pool's own) can copy a held lock into the child.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


@contextmanager
def pool(workers: int) -> Iterator[None]:
    """Run ``call`` in ``workers`` processes inside this block (in-process when 0)."""
    global _pool
    if workers <= 0:
        yield
        return
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    with _lock:
        previous, _pool = _pool, executor
    try:
        yield
    finally:
        with _lock:
            _pool = previous
        executor.shutdown(wait=True, cancel_futures=True)


def call(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)`` in a worker process of the open pool, else right here.

    ``fn`` and its arguments must be picklable: pass paths and small values, not plans
    holding every input of the corpus.
    """
    with _lock:
        executor = _pool
    if executor is None:
        return fn(*args, **kwargs)
    return executor.submit(fn, *args, **kwargs).result()
