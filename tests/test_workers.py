"""The worker pool: its processes end with their parent and with the block."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import psutil

from pipeline import stages, timelimit, workers

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


def _note_pid(folder: Path) -> None:
    (folder / str(os.getpid())).touch()


def _fail() -> None:
    raise RuntimeError("warm-up failed")


def test_a_pool_runs_on_the_workers_started_ahead_and_they_end_with_their_block(
    tmp_path: Path,
) -> None:
    with workers.started_ahead(2, partial(_note_pid, tmp_path)):
        ahead = workers._ahead
        assert ahead is not None
        deadline = time.monotonic() + 60
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # both processes started, without waiting for a call
        warmed = {int(p.name) for p in tmp_path.iterdir()}
        assert len(warmed) == 2  # each warmed up, the one that took no call too
        with workers.pool(2):
            seen = {workers.call(os.getpid) for _ in range(6)}
        assert seen <= warmed  # no process of its own
        assert all(_alive(pid) for pid in warmed)  # left running for their owner
        with workers.pool(3):  # more than were started: a pool of its own
            assert workers.call(os.getpid) not in warmed
    assert workers._ahead is None
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in warmed) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in warmed)


def test_a_failed_warm_up_leaves_the_workers_started_ahead_usable() -> None:
    with workers.started_ahead(1, _fail):
        ahead = workers._ahead
        assert ahead is not None and ahead.serves(1)
        with workers.pool(1):
            assert workers.call(eval, "1 + 1") == 2


def test_warm_up_builds_a_page_of_the_genre() -> None:
    stages.warm_up()  # raises if a stage cannot handle the page it warms up on


class _TornDown:
    """Writes ``path`` when collected: in a worker, only by the interpreter's teardown."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __del__(self) -> None:
        self.path.write_text("torn down")


_KEPT: list[_TornDown] = []


def _keep_till_exit(path: Path) -> int:
    _KEPT.append(_TornDown(path))
    print("unflushed line", end="")  # the worker's exit still flushes it
    return os.getpid()


def test_a_worker_ends_without_the_interpreters_teardown(tmp_path: Path) -> None:
    """Its module-level objects are not freed one by one as it exits (the OS takes the
    memory back), and the pool's results and shutdown are as before."""
    marker = tmp_path / "teardown"
    pid = workers.call_alone(_keep_till_exit, marker)
    assert pid != os.getpid() and not _alive(pid)
    assert not marker.exists()
    # the control: the same object in a plain spawned process is collected at teardown
    code = (
        "import sys; from pathlib import Path; sys.path[:0] = sys.argv[1:2]; "
        "from tests.test_workers import _keep_till_exit; _keep_till_exit(Path(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", code, os.getcwd(), str(marker)], check=True)
    assert marker.read_text() == "torn down"
