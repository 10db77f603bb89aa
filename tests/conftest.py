"""Shared fixtures: paths to the project's seeds, temporary output folders, one Prefect API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS


@dataclass(frozen=True)
class PrefectEnv:
    """Where the CLI runs a test starts keep Prefect's files and which API they talk to."""

    home: Path
    api_url: str

    def environ(self) -> dict[str, str]:
        """``os.environ`` for a child ``pipeline`` process using this Prefect."""
        return {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.api_url}


@pytest.fixture(scope="session", autouse=True)
def prefect_db_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The migrated Prefect database servers start from (``pipeline.prefect_db``) is kept
    in a temporary folder for the session, never in the user's cache."""
    from pipeline.prefect_db import CACHE_ENV

    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = previous


@pytest.fixture(scope="session")
def prefect(
    tmp_path_factory: pytest.TempPathFactory, prefect_db_cache: Path
) -> Iterator[PrefectEnv]:
    """One real Prefect server for every CLI run of the session (of each pytest process).

    Without it each ``pipeline run`` child starts and stops an ephemeral API of its own,
    about 6 s a run (FACTS). The serverless default keeps its own tests: the quiet run in
    ``test_cli_comfort`` and the served schedule in ``test_schedule`` start with no API.
    """
    from pipeline.server import start_server

    home = tmp_path_factory.mktemp("prefect-home")
    with start_server(home / "server") as url:
        yield PrefectEnv(home, url)
