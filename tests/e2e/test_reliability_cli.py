"""Reliability through the real command line and Prefect flow: a run killed while another
waits for the lock, and determinism across environments. The same properties are checked
more exhaustively, without Prefect, in tests/publish/ (crash points, faults, concurrency)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.faults import CRASH_ENV
from pipeline.publish.lock import read_holder
from pipeline.publish.ops import verify_release
from pipeline.publish.release import LATEST, RELEASES, STAGING
from pipeline.schemas import FACT_TABLES, TABLES
from tests.conftest import PROJECT_ROOT, SEEDS, PrefectEnv
from tests.e2e.conftest import latest_release, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Columns that may differ between two builds of the same inputs (none today: times of a
# build live in the manifest, not in the tables).
VOLATILE_COLUMNS = {"created_at", "built_at", "published_at"}


def test_run_killed_after_rename_while_another_waits(tmp_path: Path, prefect: PrefectEnv) -> None:
    inputs, output = tmp_path / "in", tmp_path / "out"
    shutil.copytree(SEEDS, inputs)
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(inputs)]
    command += ["--output", str(output)]
    env = prefect.environ()
    log = (tmp_path / "first.log").open("w")  # not a pipe: Prefect's server child keeps it
    first = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env={**env, CRASH_ENV: "renamed"},
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group: Prefect's server child goes with it
    )
    try:
        deadline = time.monotonic() + 60
        while read_holder(output) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(
            [*command, "--lock-timeout", "300"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        first.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)  # the group this test started
        first.wait()
        log.close()
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"in use by pid {first.pid}" in second.stderr
    assert "taking over a stale lock" in second.stderr
    assert "finished the interrupted publish" in second.stderr
    assert "up to date" in second.stdout
    [version] = [p.name for p in (output / RELEASES).iterdir()]
    assert (output / LATEST).read_text().strip() == version
    assert verify_release(output / RELEASES / version) == []
    assert not list(output.glob(f".{LATEST}.*.tmp")) and not any((output / STAGING).iterdir())
    verified = run_cli("verify", version, "--output", str(output), prefect=prefect)
    assert verified.returncode == 0, verified.stderr


def _frame(release: Path, name: str) -> pd.DataFrame:
    frame = pd.read_parquet(release / f"{name}.parquet")
    frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE_COLUMNS])
    return frame.reset_index(drop=True)


def test_same_release_under_other_timezone_locale_hash_seed_and_batch_size(
    seeds_release: Path, tmp_path: Path, prefect: PrefectEnv
) -> None:
    """seeds_release: the real flow, default environment. This one: the same command line
    in another environment, batch size 2, with the stages called in order instead of by
    Prefect (tests/reliability_support.py): tables must not depend on either."""
    output = tmp_path / "out"
    env = {
        "TZ": "Pacific/Kiritimati",  # UTC+14: another calendar day than UTC most of the time
        "LANG": "tr_TR.UTF-8",  # Turkish dotless i, where installed
        "LC_ALL": "C",
        "PYTHONHASHSEED": "12345",
    }
    command = ["run", "--input", str(SEEDS), "--output", str(output), "--batch-size", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability_support", *command],
        cwd=PROJECT_ROOT,
        env={**prefect.environ(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = latest_release(seeds_release), latest_release(output)
    for name in TABLES:
        a, b = _frame(first, name), _frame(second, name)
        assert list(a.columns) == list(b.columns), name
        pd.testing.assert_frame_equal(a, b, obj=name)
    for name in FACT_TABLES:
        assert set(_frame(first, name)["fact_id"]) == set(_frame(second, name)["fact_id"])
    manifests = [json.loads((r / "manifest.json").read_text()) for r in (first, second)]
    for key in ("input_fingerprint", "inputs", "tables"):
        assert manifests[0][key] == manifests[1][key], key  # tables: byte-identical files
