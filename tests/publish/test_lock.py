"""The output lock: one holder, waiting with a timeout, naming the holder, stale takeover."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline.publish.lock import LOCK, Holder, LockBusy, output_lock, read_holder
from tests.conftest import PROJECT_ROOT


def test_holder_is_written_and_cleared(tmp_path: Path) -> None:
    output = tmp_path / "out"
    with output_lock(output, 0, "pipeline run") as lock:
        assert lock.stale is None and lock.path == output / LOCK
        holder = read_holder(output)
        assert holder == Holder(
            os.getpid(), socket.gethostname(), holder.started_at if holder else None, "pipeline run"
        )
        assert holder is not None and holder.alive() is True
    assert (output / LOCK).read_bytes() == b""  # released cleanly: nothing stale
    with output_lock(output, 0) as again:
        assert again.stale is None


def test_second_holder_times_out_naming_the_first(tmp_path: Path) -> None:
    with output_lock(tmp_path, 0, "pipeline run"):
        seen: list[Holder] = []
        started = time.monotonic()
        with pytest.raises(LockBusy) as busy, output_lock(tmp_path, 0.3, on_wait=seen.append):
            pass
        assert 0.3 <= time.monotonic() - started < 3
    message = str(busy.value)
    assert f"pid {os.getpid()}" in message and "pipeline run" in message
    assert str(tmp_path / LOCK) in message and "--lock-timeout" in message
    assert [h.pid for h in seen] == [os.getpid()]


def test_zero_timeout_refuses_at_once(tmp_path: Path) -> None:
    with output_lock(tmp_path, 0), pytest.raises(LockBusy), output_lock(tmp_path, 0):
        pass


def test_waiter_gets_the_lock_when_the_holder_lets_go(tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with output_lock(tmp_path, 0):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    with output_lock(tmp_path, 10) as lock:
        assert 0.2 <= lock.waited < 5 and lock.stale is None
    thread.join()


def test_killed_holder_leaves_a_stale_lock_that_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from pipeline.publish.lock import output_lock\n"
            "with output_lock(Path(sys.argv[1]), 0, 'holder'):\n"
            "    print('locked', flush=True); time.sleep(60)\n",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockBusy, match=f"pid {holder.pid} "), output_lock(tmp_path, 0):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    gone = read_holder(tmp_path)
    assert gone is not None and gone.pid == holder.pid and gone.alive() is False
    with output_lock(tmp_path, 1) as lock:  # the kernel let go: no waiting
        assert lock.stale is not None and lock.stale.pid == holder.pid
        assert lock.stale.command == "holder" and lock.waited < 1


def test_unreadable_holder_information_is_still_a_stale_lock(tmp_path: Path) -> None:
    (tmp_path / LOCK).write_text("not json")
    with output_lock(tmp_path, 0) as lock:
        assert lock.stale == Holder(None, None, None, None)
    (tmp_path / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    assert read_holder(tmp_path) == Holder(1, "elsewhere", None, None)
    assert Holder(1, "elsewhere", None, None).alive() is None  # another host: cannot tell


def test_a_forked_worker_outliving_its_killed_run_does_not_keep_the_lock(tmp_path: Path) -> None:
    script = (
        "import os, sys, time; from pathlib import Path\n"
        "from pipeline.publish.lock import output_lock\n"
        "with output_lock(Path(sys.argv[1]), 0, 'holder'):\n"
        "    child = os.fork()\n"
        "    if child == 0:\n"
        "        time.sleep(60); os._exit(0)\n"
        "    print(child, flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    worker = None
    try:
        assert holder.stdout is not None
        worker = int(holder.stdout.readline())
        with pytest.raises(LockBusy), output_lock(tmp_path, 0):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        os.kill(worker, 0)  # the forked worker still runs, orphaned...
        with output_lock(tmp_path, 2) as lock:  # ...and does not hold the lock
            assert lock.stale is not None and lock.stale.pid == holder.pid
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
