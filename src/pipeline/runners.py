"""Where the release flow's batch tasks run: this machine's process pool, or a Dask cluster.

``local`` (the default) is the flow as it is: Prefect tasks in threads, batch bodies in a
pool of spawned worker processes (``pipeline.workers``). ``dask`` submits the batch tasks
to a Dask cluster through prefect-dask's ``DaskTaskRunner``: the scheduler at an address,
or a ``LocalCluster`` of single-threaded worker processes started for the run.

Dask runs tasks in threads of its worker processes, where the per-document time limit (a
signal, ``pipeline.timelimit``) cannot fire. So each Dask worker gets a pool of spawned
processes too (``BatchPoolPlugin``) and batch bodies run in their main threads, exactly as
in a local run: the limit holds and a slow document is quarantined the same way, so both
runners build the same release. A Dask worker that is a daemonic process (``dask worker``'s
default) may not start processes; there batch bodies run in the task's thread without the
limit, and the run says so.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import dask.config
from distributed import Worker, WorkerPlugin
from prefect_dask.task_runners import DaskTaskRunner

from pipeline import workers
from pipeline.server import RunnerUnavailable, prefect_api
from pipeline.settings import Settings

if TYPE_CHECKING:
    from flows.release_flow import FlowResult
    from prefect import Flow

PLUGIN_NAME = "pipeline-batch-pool"
_NO_DAEMON = {"distributed.worker.daemon": False}

logger = logging.getLogger(__name__)


class DaskUnavailable(RunnerUnavailable):
    """The Dask scheduler cannot be reached (or a local cluster cannot start)."""


def batch_pool_possible() -> bool:
    """Whether this process may start worker processes (daemonic ones may not)."""
    return not multiprocessing.current_process().daemon


class BatchPoolPlugin(WorkerPlugin):
    """On each Dask worker, a ``pipeline.workers`` pool of one process per worker thread,
    open for the worker's lifetime, so batch bodies run in a main thread (time limit)."""

    idempotent = True  # registering again (a second run on one cluster) keeps the pools

    def __init__(self) -> None:
        self._stack: ExitStack | None = None

    def setup(self, worker: Worker) -> None:
        if not batch_pool_possible():
            logger.warning(
                "pipeline: Dask worker %s is a daemonic process and cannot start the batch "
                "pool; the per-document time limit is not enforced on it",
                worker.address,
            )
            return
        self._stack = ExitStack()
        pool = workers.pool(max(1, worker.state.nthreads), terminate=True)
        self._stack.enter_context(pool)

    def teardown(self, worker: Worker) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


def _has_batch_pool() -> bool:
    """Run on each Dask worker: does its batch pool exist (set up by the plugin)?"""
    return workers.is_pooled()


class PipelineDaskTaskRunner(DaskTaskRunner):
    """``DaskTaskRunner`` that installs ``BatchPoolPlugin`` on every worker.

    The LocalCluster it starts has non-daemonic workers, so that the plugin can start its
    processes there; with a scheduler address the workers are the cluster's own.
    """

    def __enter__(self) -> PipelineDaskTaskRunner:
        # Held until __exit__: the nanny reads it whenever it (re)starts a worker process.
        self._config = ExitStack()
        if not self.address:
            self._config.enter_context(dask.config.set(_NO_DAEMON))
        super().__enter__()  # type: ignore[no-untyped-call]  # prefect-dask is not typed here
        try:
            pooled = self._connect()
        except BaseException:
            self.__exit__(*sys.exc_info())  # `with` calls no __exit__ when __enter__ raises
            raise
        if unpooled := sorted(address for address, ok in pooled.items() if not ok):
            print(
                f"pipeline run: {len(unpooled)} of {len(pooled)} Dask worker(s) are daemonic "
                f"processes ({', '.join(unpooled)}): documents there run without the "
                "per-document time limit. Start workers with "
                "DASK_DISTRIBUTED__WORKER__DAEMON=False (or `dask worker --no-nanny`) to "
                "enforce it.",
                file=sys.stderr,
            )
        return self

    def _connect(self) -> dict[str, bool]:
        """Connect (or start the LocalCluster) now rather than at the first submit, install
        the batch pools; whether each worker has one, by address."""
        try:
            client = self.client
        except OSError as err:
            where = f"the Dask scheduler at {self.address}" if self.address else "a LocalCluster"
            raise DaskUnavailable(
                f"cannot connect to {where}: {err}. Start a scheduler and workers "
                "(`dask scheduler`, then `dask worker tcp://HOST:8786`) and pass its address, "
                "or leave out --dask-address to run on a local Dask cluster"
            ) from err
        client.register_plugin(BatchPoolPlugin(), name=PLUGIN_NAME)
        pooled: dict[str, bool] = client.run(_has_batch_pool)
        return pooled

    def __exit__(self, *args: Any) -> None:
        try:
            super().__exit__(*args)
        finally:
            self._config.close()


def dask_task_runner(address: str | None, n_workers: int) -> PipelineDaskTaskRunner:
    """The task runner of ``pipeline run --runner dask``.

    Without ``address``: a LocalCluster of ``n_workers`` processes with one thread each
    (batch bodies are CPU-bound Python: threads would share one core through the GIL), no
    dashboard (nothing listens beyond the scheduler's loopback port).
    """
    if address:
        return PipelineDaskTaskRunner(address=address)
    return PipelineDaskTaskRunner(
        cluster_kwargs={
            "n_workers": max(1, n_workers),
            "threads_per_worker": 1,
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
            "silence_logs": logging.ERROR,
        }
    )


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Fail fast, before a Prefect server is started for nothing, when nothing listens
    at a tcp:// scheduler address (other protocols are left to Dask to check)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, location = parse_address(address)
        host, port = parse_host_port(location)
    except ValueError as err:
        raise DaskUnavailable(
            f"--dask-address {address!r} is not a scheduler address ({err}); "
            "expected e.g. tcp://10.0.0.5:8786"
        ) from err
    if protocol != "tcp":
        return
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as err:
        raise DaskUnavailable(
            f"no Dask scheduler answers at {address} ({err.strerror or err}): start one "
            f"(`dask scheduler --port {port}` there, then `dask worker {address}` on each "
            "machine), or leave out --dask-address to run on a local Dask cluster"
        ) from err


@contextmanager
def dask_release_flow(settings: Settings) -> Iterator[Flow[..., FlowResult]]:
    """The release flow with its batch tasks on Dask, while a Prefect API is up.

    Dask workers report their task runs to Prefect: on the ephemeral API each would start
    a server of its own, so a real one is used (``PREFECT_API_URL``) or started on
    loopback for the run (``pipeline.server``). Call the flow with ``process_pool=False``.
    """
    if settings.dask_address:
        check_scheduler(settings.dask_address)
    with prefect_api(settings.output_dir.resolve() / ".state"):
        from flows.release_flow import release_flow

        task_runner = dask_task_runner(settings.dask_address, settings.workers)
        # with_options expects TaskRunner[PrefectFuture]: its type parameter is invariant,
        # while a DaskTaskRunner makes PrefectDaskFutures (a subclass); it is one at run time
        yield release_flow.with_options(task_runner=task_runner)  # type: ignore[arg-type]
