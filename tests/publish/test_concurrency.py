"""Two runs on one output folder: the second waits for the lock (or gives up naming the
holder), then finds the first one's release up to date: one release, not two."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pipeline.cli import EXIT_LOCKED
from pipeline.publish.lock import LOCK, read_holder
from pipeline.publish.release import RELEASES
from tests.conftest import PROJECT_ROOT, SEEDS
from tests.publish.test_crash_safety import _command, assert_consistent, latest, run_fast
from tests.reliability_support import PAUSE_ENV

pytestmark = pytest.mark.slow


def test_identical_concurrent_runs_publish_one_release(tmp_path: Path) -> None:
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    first = subprocess.Popen(
        _command(inputs, output),
        cwd=PROJECT_ROOT,
        env={**os.environ, PAUSE_ENV: "3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (holder := read_holder(output)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holder is not None and holder.pid == first.pid

        refused = subprocess.run(  # PIPELINE_LOCK_TIMEOUT=0: do not wait
            _command(inputs, output)[:-2],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PIPELINE_LOCK_TIMEOUT": "0"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == EXIT_LOCKED, refused.stderr
        assert f"pid {first.pid}" in refused.stderr and str(output / LOCK) in refused.stderr

        second = run_fast(inputs, output)  # waits up to 30 s for the first run
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert "published" in out
    assert f"in use by pid {first.pid}" in second.stderr and "waiting up to 30" in second.stderr
    assert "up to date" in second.stdout
    assert [p.name for p in (output / RELEASES).iterdir()] == [latest(output)]
    assert_consistent(output)
