"""Vocabularies as data files, loaded once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def load_yaml(name: str) -> Any:
    """Parse ``resources/<name>`` (cached: resources never change at run time)."""
    return yaml.safe_load(files(__package__).joinpath(name).read_text(encoding="utf-8"))
