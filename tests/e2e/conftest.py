"""Fixtures shared by the end-to-end tests: the CLI as a subprocess, one seeds release."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SEEDS, PrefectEnv


def run_cli(*args: str, prefect: PrefectEnv | None, **env: str) -> subprocess.CompletedProcess[str]:
    """``pipeline ARGS`` in a child process; with ``prefect=None`` on its own ephemeral API."""
    if prefect is None:
        environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    else:
        environment = prefect.environ()
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def latest_release(output: Path) -> Path:
    return output / "releases" / (output / "LATEST").read_text().strip()


@pytest.fixture(scope="session")
def seeds_release(tmp_path_factory: pytest.TempPathFactory, prefect: PrefectEnv) -> Path:
    """The output folder of one release of seeds/, built once per session."""
    output = tmp_path_factory.mktemp("seeds-out")
    result = run_cli("run", "--input", str(SEEDS), "--output", str(output), prefect=prefect)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "published" in result.stdout and str(output) in result.stdout
    return output
