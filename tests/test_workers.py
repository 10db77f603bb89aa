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


_PEAKS = """
from pipeline import workers
ballast = b"x" * (400 * 2**20)  # this process is large when its workers start
if __name__ == "__main__":
    with workers.pool(1):
        workers.call(eval, "1")
        idle = workers.largest_worker_kb()
        workers.call(eval, "len(b'x' * (300 * 2**20))")  # a worker's own 300 MB
        busy = workers.largest_worker_kb()
    workers.call_alone(eval, "1")
    print(idle, busy, workers.largest_worker_kb())
"""


def test_workers_report_their_own_peak_memory_not_their_starters() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PEAKS], capture_output=True, text=True, check=True, timeout=120
    )
    idle_kb, busy_kb, after_kb = map(int, done.stdout.split())
    assert 0 < idle_kb < 200 * 1024  # not the 400 MB of the process that started it
    assert busy_kb >= 300 * 1024
    assert after_kb == busy_kb  # the largest is kept
