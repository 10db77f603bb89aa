"""Telling URLs from local paths, and fsspec storage options from ``key=value`` pairs.

Imports nothing heavy: the command line parses ``--input``/``--output`` with these before
it knows whether there is any work (``pipeline.remote`` does the storage work).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# A scheme of two or more characters: ``C://x`` (a Windows drive) is never a URL.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_url(value: object) -> bool:
    """Whether ``value`` is a URL (``s3://bucket/prefix``) rather than a local path."""
    return isinstance(value, str) and _URL.match(value) is not None


def location(value: str | Path) -> str | Path:
    """A URL stays a string (``Path`` would fold ``s3://`` into ``s3:/``); else a Path."""
    if isinstance(value, Path):
        return value
    return value if is_url(value) else Path(value)


def parse_storage_option(pair: str) -> tuple[list[str], Any]:
    """``key=value`` as (key path, value); dots nest (``client_kwargs.region_name=x``).

    The value is read as JSON when it parses (``anon=true``, ``max_concurrency=4``), else it
    is the string itself (``endpoint_url=http://localhost:9000``).
    """
    key, sep, text = pair.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"storage option {pair!r} is not KEY=VALUE")
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = text
    return [part.strip() for part in key.split(".")], value


def storage_options(pairs: Iterable[str]) -> dict[str, Any]:
    """Merge ``key=value`` pairs (see ``parse_storage_option``) into one options dict."""
    options: dict[str, Any] = {}
    for pair in pairs:
        keys, value = parse_storage_option(pair)
        target = options
        for key in keys[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                raise ValueError(f"storage option {pair!r}: {key} is already a value")
        target[keys[-1]] = value
    return options
