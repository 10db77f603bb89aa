"""Shared fixtures: paths to the project's seeds, temporary output folders."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS
