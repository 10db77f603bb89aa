"""The worker pool: its processes end with their parent and with the block."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from pipeline import timelimit, workers

_PARENT = """
import os, time
from pipeline import workers
if __name__ == "__main__":
    with workers.pool(1):
        print(workers.call(os.getpid), flush=True)
        time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_pool_workers_end_soon_after_their_parent_is_killed() -> None:
    """An idle worker holds its own queue open, so without a watch it outlives kill -9."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(worker):
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the pool worker outlived its killed parent")


def test_terminated_pool_runs_calls_in_a_main_thread_and_stops_its_workers() -> None:
    with workers.pool(1, terminate=True):
        assert workers.is_pooled()
        assert workers.call(timelimit.enforceable)  # the time limit can fire there
        worker = workers.call(os.getpid)
    assert not workers.is_pooled()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker)
